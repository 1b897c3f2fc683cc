"""The /sandbox page in a real browser: Debian's Chromium driven by Playwright (no downloads).

Screenshots land in test-artifacts/ for a person to look at after a run. With
AIRLOCK_README_SCREENSHOTS=1 the README's pictures are written to docs/img/ too (commit them).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlmodel import col, select

from bot.core.intake import submit
from bot.core.runtime import Runtime
from bot.sandbox.samples import OPP_ID, PLANT_OPP_ID, field_update
from bot.service import Service
from models import Item
from tests.conftest import LiveServer
from tests.writeback_support import respec

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
README_IMAGES = ROOT / "docs" / "img"
README_SHOTS = bool(os.environ.get("AIRLOCK_README_SCREENSHOTS"))
README_WIDTHS = (390, 1440)  # the README shows a phone and a desktop

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium); "
    "CI installs it, so there this test always runs",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def sandbox(browser: Browser, live: LiveServer) -> Iterator[Page]:
    """The sandbox page, open and connected; page errors fail the test."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1480, "height": 940})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}/sandbox")
    expect(page.locator("#status")).to_have_text("live")
    yield page
    context.close()
    assert errors == []


def shot(page: Page, name: str, *, readme: bool = False, full_page: bool = False) -> None:
    """A screenshot in test-artifacts/, and in docs/img/ for the README when asked to."""
    png = page.screenshot(path=ARTIFACTS / name, full_page=full_page)
    if readme and README_SHOTS:
        # 128 colours without dithering keep UI text sharp at about a third of the bytes.
        image = Image.open(io.BytesIO(png)).convert("RGB")
        flat = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        flat.save(README_IMAGES / name, optimize=True)


def act_as(page: Page, user: str) -> None:
    page.locator(f"button.person[data-user={user}]").click()
    expect(page.locator(f"button.person[data-user={user}]")).to_have_class("person active")


def test_approve_and_edit_cards(sandbox: Page, service: Service) -> None:
    org = service.integrations.sandbox.salesforce
    assert org is not None
    act_as(sandbox, "U0MAYA")
    sandbox.locator("button.sample[data-sample=stage]").click()
    stage = sandbox.locator("article.message", has_text="Move Acme renewal to Negotiation")
    expect(stage.get_by_role("button", name="Approve")).to_be_visible()
    expect(stage).to_contain_text("Proposal/Price Quote → Negotiation/Review")
    shot(sandbox, "sandbox-1-card.png")

    stage.get_by_role("button", name="Approve").click()
    expect(stage).to_contain_text("Salesforce: written")
    expect(stage.get_by_role("button", name="Approve")).to_have_count(0)
    write = sandbox.locator(".sf-write", has_text="Acme Corp - Renewal 2027")
    expect(write).to_contain_text("StageName = Negotiation/Review")
    assert (org.get("Opportunity", OPP_ID) or {})["StageName"] == "Negotiation/Review"

    sandbox.locator("button.sample[data-sample=task]").click()
    task = sandbox.locator("article.message", has_text="Follow up on redlines")
    task.get_by_role("button", name="Edit").click()
    modal = sandbox.locator("#modal")
    expect(modal).to_contain_text("Edit before approving")
    modal.get_by_label("Task subject").fill("Send the redlined MSA to legal")
    modal.get_by_label("Task due date").fill("2026-12-01")
    shot(sandbox, "sandbox-2-edit-modal.png")
    modal.get_by_role("button", name="Approve with edits").click()
    expect(sandbox.locator("#modal-backdrop")).to_be_hidden()
    expect(task).to_contain_text("Approved with edits")
    expect(task).to_contain_text("Task created")
    created = sandbox.locator(".sf-write", has_text="Send the redlined MSA to legal")
    expect(created).to_contain_text("ActivityDate = 2026-12-01")
    shot(sandbox, "sandbox-3-written.png")


def test_modal_errors_inline_then_manager_edit(sandbox: Page, service: Service) -> None:
    org = service.integrations.sandbox.salesforce
    assert org is not None
    act_as(sandbox, "U0SAM")
    sandbox.locator("button.sample[data-sample=amount]").click()
    amount = sandbox.locator("article.message", has_text="Raise Acme plant expansion to 180k")
    amount.get_by_role("button", name="Edit").click()
    modal = sandbox.locator("#modal")
    field = modal.get_by_role("spinbutton", name="Amount")  # the checkbox "Amount" keeps it
    expect(field).to_have_value("180000")
    field.fill("")
    modal.get_by_role("button", name="Approve with edits").click()
    expect(modal.locator(".bk-error", has_text="required")).to_contain_text(
        "This value is required"
    )
    shot(sandbox, "sandbox-4-modal-error.png")
    field.fill("175000")
    modal.get_by_role("button", name="Approve with edits").click()
    expect(sandbox.locator("#modal-backdrop")).to_be_hidden()
    expect(amount).to_contain_text("Salesforce: written")
    assert (org.get("Opportunity", PLANT_OPP_ID) or {})["Amount"] == 175000


def test_command_home_and_audit_trail(sandbox: Page) -> None:
    act_as(sandbox, "U0MAYA")
    sandbox.locator("button.sample[data-sample=stage]").click()
    expect(sandbox.locator("article.message")).to_have_count(1)
    sandbox.locator("#command").fill("queue")
    sandbox.locator("#command-form button").click()
    answer = sandbox.locator("#command-answer")
    expect(answer).to_contain_text("/airlock queue · only visible to you")
    expect(answer).to_contain_text("Move Acme renewal to Negotiation")

    sandbox.locator(".slack .tab[data-tab=home]").click()
    expect(sandbox.locator("#home")).to_contain_text("Waiting for you")
    expect(sandbox.locator("#home")).to_contain_text("Move Acme renewal to Negotiation")

    sandbox.locator(".side .tab[data-tab=audit]").click()
    sandbox.locator(".item-row", has_text="Move Acme renewal to Negotiation").click()
    trace = sandbox.locator("#trace")
    expect(trace).to_contain_text("received")
    expect(trace).to_contain_text("card_posted")
    shot(sandbox, "sandbox-5-home-audit.png")


def test_render_mrkdwn_safely(sandbox: Page) -> None:
    html = sandbox.evaluate(
        """() => BlockKit.mrkdwn(
            "*bold* _it_ `a_b*c` <https://x.example/a?b=1|link> <@U0MAYA> &lt;b&gt;x&lt;/b&gt;\\n"
            + "> quoted <javascript:alert(1)|bad>", {U0MAYA: {name: "Maya Chen"}})"""
    )
    assert "<strong>bold</strong> <em>it</em> <code>a_b*c</code>" in html
    link = '<a href="https://x.example/a?b=1" target="_blank" rel="noopener noreferrer">link</a>'
    assert link in html
    assert '<span class="bk-mention">@Maya Chen</span>' in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<blockquote>quoted bad</blockquote>" in html
    assert "javascript:" not in html


@pytest.mark.parametrize(
    ("width", "height"), [(390, 844), (1024, 768), (1440, 900)], ids=["phone", "laptop", "desktop"]
)
def test_layout_keeps_panes_usable(
    browser: Browser, live: LiveServer, width: int, height: int
) -> None:
    """Messages and Salesforce panes keep a usable height from a phone to a desktop."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live.url}/sandbox")
    expect(page.locator("#status")).to_have_text("live")
    act_as(page, "U0MAYA")
    page.locator("button.sample[data-sample=stage]").click()
    expect(page.locator("article.message")).to_have_count(1)
    page.locator("#command").fill("/airlock help")
    page.locator("#command-form button").click()
    expect(page.locator("#command-answer")).to_contain_text("/airlock help · only visible to you")
    boxes = {
        name: page.locator(selector).bounding_box()
        for name, selector in {"messages": "#messages", "salesforce": "#salesforce"}.items()
    }
    shot(page, f"sandbox-layout-{width}.png", readme=width in README_WIDTHS, full_page=True)
    context.close()
    for name, box in boxes.items():
        assert box is not None, name
        assert box["height"] >= 250, f"{name} pane is {box['height']:.0f} px tall at {width} px"
        assert box["width"] >= min(width - 40, 360), f"{name} pane is {box['width']:.0f} px wide"


def test_bundle_rows_and_approve_all_confirm(
    sandbox: Page, rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    respec(rt, workflows_dir, review={"bundle_after": 2, "bundle_window": "10m"})
    for n in range(6):
        body = field_update(idempotency_key=f"browser-bundle-{n}", title=f"Stage move {n}")
        submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
    act_as(sandbox, "U0MAYA")
    bundle = sandbox.locator("article.message", has_text="items to review")
    expect(bundle).to_contain_text("Stage move 5")
    expect(bundle).to_contain_text("Proposal/Price Quote → Negotiation/Review")
    with rt.db.read() as session:
        rows = session.exec(select(Item).where(col(Item.bundle_id).is_not(None))).all()
    assert len(rows) >= 3  # more than bundle_after reached Maya at once
    expect(bundle.get_by_role("button", name="Approve", exact=True)).to_have_count(len(rows))
    bundle.get_by_role("button", name=f"Approve all {len(rows)}").click()
    dialog = sandbox.locator(".confirm-dialog")
    expect(dialog).to_contain_text("Approve all?")
    shot(sandbox, "sandbox-6-bundle-confirm.png")
    dialog.get_by_role("button", name="Approve all").click()
    expect(dialog).to_have_count(0)
    expect(bundle.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(bundle.locator("text=Approved by")).to_have_count(len(rows))
