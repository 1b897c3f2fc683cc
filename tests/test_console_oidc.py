"""Sign in with Slack (OpenID Connect) to /console, against the Slack stand-in's endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.core.runtime import Runtime
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.slack_standin import SlackStandin
from handlers.console import Console
from handlers.console_auth import COOKIE, Oidc, Signer
from handlers.console_routes import build_console_router

CLIENT_ID, SECRET = "111.222", "e1b9e11dfcd19c1982d5de12921e17e8"  # 32 hex, as Slack issues


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as standin:
        standin.oidc.clients[CLIENT_ID] = SECRET
        yield standin


def console_app(rt: Runtime, slack: SlackStandin, secret: str = SECRET) -> TestClient:
    oidc = Oidc(CLIENT_ID, secret, slack.base_url, "xoxb-airlock")
    console = Console(rt, Signer("session-key"), oidc, False)
    app = FastAPI()
    app.include_router(build_console_router(console))
    return TestClient(app, follow_redirects=False)


def through_slack(web: TestClient, user: str) -> str:
    """Start the sign-in, pick `user` at the stand-in's authorize page; the callback path."""
    start = web.get("/console/signin")
    assert start.status_code == 303
    authorize = start.headers["location"]
    assert urlsplit(authorize).path == "/openid/connect/authorize"
    with httpx.Client(trust_env=False) as browser:
        picker = browser.get(authorize)
        assert picker.status_code == 200 and "Olivia Park" in picker.text
        back = browser.get(authorize + f"&stand_in_user={user}")
    assert back.status_code == 302
    target = urlsplit(back.headers["location"])
    assert target.path == "/console/auth/callback" and "code" in parse_qs(target.query)
    return f"{target.path}?{target.query}"


def test_sign_in_with_slack(rt: Runtime, slack: SlackStandin) -> None:
    web = console_app(rt, slack)
    done = web.get(through_slack(web, "U0OLIVIA"))
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert web.cookies.get(COOKIE)
    page = web.get("/console").text
    assert "U0OLIVIA" in page and "/console/workflows/opp-hygiene" in page
    calls = ["openid.connect.token", "auth.test", "openid.connect.userInfo"]
    assert [c.method for c in slack.calls] == calls


def test_callback_refuses_a_foreign_state(rt: Runtime, slack: SlackStandin) -> None:
    web = console_app(rt, slack)
    callback = through_slack(web, "U0OLIVIA")
    web.cookies.clear()
    web.cookies.set("airlock_console_state", "someone-else")
    answer = web.get(callback)
    assert answer.status_code == 401 and not web.cookies.get(COOKIE)


def test_slack_refuses_a_wrong_client_secret(rt: Runtime, slack: SlackStandin) -> None:
    web = console_app(rt, slack, secret="wrong")
    answer = web.get(through_slack(web, "U0OLIVIA"))
    assert answer.status_code == 401 and "bad_client_secret" in answer.text


def test_a_code_is_used_once(rt: Runtime, slack: SlackStandin) -> None:
    web = console_app(rt, slack)
    callback = through_slack(web, "U0OLIVIA")
    state_cookie = web.cookies.get("airlock_console_state")
    assert web.get(callback).status_code == 303
    web.cookies.clear()
    web.cookies.set("airlock_console_state", state_cookie or "")
    assert "invalid_code" in web.get(callback).text


def test_console_without_oidc_says_what_to_set(rt: Runtime) -> None:
    app = FastAPI()
    app.include_router(build_console_router(Console(rt, None, None, False)))
    answer = TestClient(app).get("/console/signin")
    assert answer.status_code == 401 and "SLACK_CLIENT_ID" in answer.text


def test_a_member_of_another_workspace_is_refused(rt: Runtime, slack: SlackStandin) -> None:
    """Sign in with Slack signs in anyone with a Slack account: only Airlock's workspace may."""
    slack.oidc.teams["U0OLIVIA"] = "T0ELSEWHERE"  # the same user id, another workspace
    web = console_app(rt, slack)
    answer = web.get(through_slack(web, "U0OLIVIA"))
    assert answer.status_code == 403 and not web.cookies.get(COOKIE)
    assert "workspace T0ELSEWHERE" in answer.text and "T0SANDBOX" in answer.text


def test_an_answer_for_another_sign_in_is_refused(rt: Runtime, slack: SlackStandin) -> None:
    """The id_token's nonce must be the one this browser's sign-in sent."""
    web = console_app(rt, slack)
    callback = through_slack(web, "U0OLIVIA")
    state = (web.cookies.get("airlock_console_state") or "").partition(":")[0]
    web.cookies.clear()
    web.cookies.set("airlock_console_state", f"{state}:another-sign-ins-nonce")
    answer = web.get(callback)
    assert answer.status_code == 401 and "nonce" in answer.text
    assert not web.cookies.get(COOKIE)
