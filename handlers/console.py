"""/console: the read-only operator console, and how people sign in to it.

Nothing here changes Airlock's state: pages read the read models, sign-in sets only a cookie.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.base.errors import AirlockError, Forbidden, Unauthorized
from bot.core.runtime import Runtime
from bot.reporting.console_access import Viewer, viewer_for
from bot.sandbox.inbox import people as sandbox_people
from handlers.console_auth import CALLBACK, COOKIE, STATE_COOKIE, Oidc, Signer, new_state
from handlers.console_html import esc, page

log = logging.getLogger(__name__)
Build = Callable[[Viewer], tuple[str, str]]


class SignInFirst(Exception):
    """No valid session: the browser goes to the sign-in page."""


@dataclass
class Console:
    """What every console route shares: the runtime, the cookie signer, how people sign in."""

    rt: Runtime
    signer: Signer | None  # None: no AIRLOCK_CONSOLE_SECRET outside the sandbox
    oidc: Oidc | None
    sandbox: bool

    def viewer(self, request: Request) -> Viewer:
        """The signed-in person and their rights; SignInFirst without a valid session."""
        user = self.signer.read(request.cookies.get(COOKIE)) if self.signer else None
        if user is None:
            raise SignInFirst
        viewer = viewer_for(self.rt, user)
        if not viewer.anything:
            raise Forbidden(
                f"{user} has no workflow, team or item in Airlock: the console shows owners "
                "their workflows, managers their team's items and reps their own"
            )
        return viewer

    def render(self, request: Request, build: Build) -> Response:
        """A page for the signed-in viewer; refusals and bad input as HTML pages."""
        try:
            viewer = self.viewer(request)
            title, body = build(viewer)
        except SignInFirst:
            return RedirectResponse("/console/signin", status_code=303)
        except AirlockError as error:
            return error_page(error)
        return HTMLResponse(page(title, body, who=viewer.user, roles=viewer.roles))


def error_page(error: AirlockError) -> HTMLResponse:
    """A refusal or bad request, said plainly."""
    body = f'<p class="bad">{esc(error.detail)}</p><p><a href="/console">Back</a></p>'
    return HTMLResponse(page(error.title, body), status_code=error.status)


def console_for(rt: Runtime, *, slack_api_url: str | None = None) -> Console:
    """The console as the settings configure it (`slack_api_url`: the Slack actually used)."""
    settings = rt.settings
    secret = settings.console_secret.get_secret_value() if settings.console_secret else None
    sandbox = settings.slack_sandbox
    if secret is None and sandbox:
        secret = secrets.token_urlsafe(32)  # sessions last as long as this sandbox process
    oidc = None
    if settings.slack_client_id and settings.slack_client_secret:
        oidc = Oidc(
            settings.slack_client_id,
            settings.slack_client_secret.get_secret_value(),
            slack_api_url or settings.slack_api_url,
            settings.slack_bot_token or "",
        )
    return Console(rt, Signer(secret) if secret else None, oidc, sandbox)


def add_sign_in(router: APIRouter, console: Console) -> None:
    """/console/signin, the OIDC callback and sign-out."""
    _add_slack_sign_in(router, console)

    @router.post("/signin", response_model=None)
    def pick(request: Request, user: str = Form(...)) -> Response:
        if not (console.sandbox and console.signer):
            return error_page(Forbidden("the person picker exists only in the sandbox"))
        if user not in {p["id"] for p in picker_people(console.rt)}:
            return error_page(Unauthorized(f"{user} is not one of the sandbox people"))
        return _signed_in(request, console.signer, user)

    @router.get("/signout", response_model=None)
    def sign_out() -> Response:
        response = RedirectResponse("/console/signin", status_code=303)
        response.delete_cookie(COOKIE)
        return response


def _add_slack_sign_in(router: APIRouter, console: Console) -> None:
    """GET /signin (the picker in the sandbox, else off to Slack) and Slack's callback."""

    @router.get("/signin", response_model=None)
    def sign_in(request: Request) -> Response:
        if console.sandbox and console.signer:
            return HTMLResponse(page("Sign in (sandbox)", _picker(console)))
        if console.oidc is None or console.signer is None:
            missing = "SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and AIRLOCK_CONSOLE_SECRET"
            return error_page(Unauthorized(f"the console needs {missing} set to sign in"))
        state, nonce = new_state(), new_state()
        target = console.oidc.redirect(_callback_url(request), state, nonce)
        response = RedirectResponse(target, status_code=303)
        # both tokens are URL-safe base64 (no ":"): the callback reads them back apart
        response.set_cookie(
            STATE_COOKIE, f"{state}:{nonce}", max_age=600, httponly=True, samesite="lax"
        )
        return response

    @router.get(CALLBACK.removeprefix("/console"), response_model=None)
    def callback(request: Request, code: str = "", state: str = "") -> Response:
        expected, _, nonce = (request.cookies.get(STATE_COOKIE) or "").partition(":")
        if console.oidc is None or console.signer is None:
            return error_page(Unauthorized("Sign in with Slack is not configured"))
        if not code or not expected or not secrets.compare_digest(state, expected):
            return error_page(Unauthorized("the sign-in expired or came from elsewhere: try again"))
        try:
            user = console.oidc.user_of(code, _callback_url(request), nonce)
        except AirlockError as error:
            return error_page(error)
        response = _signed_in(request, console.signer, user)
        response.delete_cookie(STATE_COOKIE)
        return response


def picker_people(rt: Runtime) -> list[dict[str, Any]]:
    """The seeded sandbox people, and admins (AIRLOCK_ADMINS) who are not among them."""
    found = sandbox_people(rt)
    seeded = {p["id"] for p in found}
    extra = sorted(a for a in rt.settings.admins if a not in seeded)
    return found + [{"id": a, "name": a, "roles": ["admin"]} for a in extra]


def _signed_in(request: Request, signer: Signer, user: str) -> Response:
    response = RedirectResponse("/console", status_code=303)
    secure = request.url.scheme == "https"  # behind TLS the cookie never travels in clear
    response.set_cookie(COOKIE, signer.issue(user), httponly=True, samesite="lax", secure=secure)
    return response


def _callback_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + CALLBACK


def _picker(console: Console) -> str:
    options = "".join(
        f'<option value="{esc(p["id"])}">{esc(p["name"])} ({esc(", ".join(p["roles"]) or "-")})'
        "</option>"
        for p in picker_people(console.rt)
    )
    return (
        "<p>The sandbox has no Slack app to sign in with: pick who you are.</p>"
        '<form method="post" action="/console/signin"><select name="user" id="person">'
        f"{options}</select> <button>Sign in</button></form>"
    )
