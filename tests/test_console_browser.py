"""/console in a real browser: Debian's Chromium driven by Playwright (no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.server import create_app
from tests import payloads
from tests.conftest import LiveServer
from tests.test_lifecycle import assign, post
from tests.test_sandbox_browser import ARGS, ARTIFACTS, CHROMIUM

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)


def sign_in(page: Page, url: str, user: str) -> None:
    page.goto(f"{url}/console/signout")
    expect(page).to_have_url(f"{url}/console/signin")
    page.locator("#person").select_option(user)
    page.get_by_role("button", name="Sign in").click()


def test_console_in_chromium(rt: Runtime, agent_key: str, tmp_path: Path) -> None:
    kept = post(rt, agent_key, payloads.field_update(idempotency_key="kept"))
    dropped = post(rt, agent_key, payloads.field_update(idempotency_key="dropped"))
    for item_id in (kept, dropped):
        assign(rt, item_id, "U0MAYA")
    decisions.reject(rt, dropped, "U0MAYA", "inaccurate", "wrong stage")
    ARTIFACTS.mkdir(exist_ok=True)
    with LiveServer(create_app(rt)) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        sign_in(page, live.url, "U0OLIVIA")
        expect(page.locator("header .who")).to_contain_text("U0OLIVIA (owner)")
        page.get_by_role("link", name="opp-hygiene").click()
        expect(page.locator("h1")).to_contain_text("opp-hygiene")
        expect(page.locator("main")).to_contain_text("wrong opportunity matched")

        page.get_by_role("link", name="Items", exact=True).click()
        page.locator("select[name=status]").select_option("rejected")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_role("link", name=dropped)).to_be_visible()
        expect(page.get_by_role("link", name=kept)).to_have_count(0)
        page.get_by_role("link", name=dropped).click()
        expect(page.locator("main")).to_contain_text("Every event (hash-chained)")
        expect(page.locator("main")).to_contain_text("user:U0MAYA")
        page.screenshot(path=ARTIFACTS / "console-trace.png", full_page=True)

        page.get_by_role("link", name="Patterns").click()
        chart = page.locator("svg[aria-label='Items per day'] polyline")
        expect(chart.first).to_be_attached()
        expect(page.locator("svg[aria-label='Top reject reasons']")).to_contain_text("inaccurate")
        page.screenshot(path=ARTIFACTS / "console-patterns.png", full_page=True)

        sign_in(page, live.url, "U0MAYA")
        answer = page.goto(f"{live.url}/console/workflows/opp-hygiene")
        assert answer is not None and answer.status == 403
        expect(page.locator("main")).to_contain_text("may not see workflow")
        browser.close()
    assert errors == []
