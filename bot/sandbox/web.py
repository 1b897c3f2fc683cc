"""The /sandbox page: try the whole loop in a browser, on the Slack and Salesforce stand-ins.

Every click, modal submission, command and Home visit is turned into the exact request Slack
would send, signed with the sandbox signing secret, and POSTed to this app's own /slack/events
over HTTP: the page exercises the real path, it does not call the runtime behind its back.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from bot.base.errors import InvalidInput, NotFound
from bot.sandbox import inbox
from bot.sandbox.host import Host
from bot.sandbox.samples import SAMPLES
from bot.sandbox.session import ensure_agent_key, key_file
from bot.sandbox.slack_payloads import (
    block_action,
    checkboxes_state,
    select_action,
    view_submission,
)
from bot.sandbox.slack_sender import SlackSender, answer_of
from bot.sandbox.slack_standin import SlackStandin

STATIC = Path(__file__).parent / "static"
EDITABLE_FIELDS = ("StageName", "NextStep", "Amount", "CloseDate")
Json = dict[str, Any]


class ClickIn(BaseModel):
    """A button click on a message (channel + ts) or on the Home tab."""

    user: str
    action_id: str
    value: str
    channel: str | None = None
    ts: str | None = None
    home: bool = False
    kind: str = "button"  # or "static_select": an option picked from a menu on a message


class InputValue(BaseModel):
    """One filled-in modal input, as the page read it."""

    action_id: str
    type: str
    value: str | None = None
    selected: list[str] | None = None  # ticked option values of a checkboxes input


class SubmitIn(BaseModel):
    """A modal submission: block id -> the input in it."""

    user: str
    view_id: str
    values: dict[str, InputValue] = Field(default_factory=dict)


class CommandIn(BaseModel):
    """`/airlock <text>`."""

    user: str
    text: str = ""


class UserIn(BaseModel):
    """Whoever the page is acting as."""

    user: str


class RecordEditIn(BaseModel):
    """A person changing an opportunity field in Salesforce (to provoke a conflict)."""

    id: str
    field: str
    value: str


class SampleIn(BaseModel):
    """A sample agent submission by name (see bot.sandbox.samples.SAMPLES)."""

    sample: str


def slack_state(value: InputValue) -> Json:
    """A page input as Slack reports it in `view.state.values`."""
    if value.type == "static_select":
        option = None
        if value.value:
            option = {"value": value.value, "text": {"type": "plain_text", "text": value.value}}
        return {"type": value.type, "selected_option": option}
    if value.type == "checkboxes":
        return checkboxes_state(value.selected or [])["value"]
    if value.type == "datepicker":
        return {"type": value.type, "selected_date": value.value or None}
    return {"type": value.type, "value": value.value or None}


def self_url(request: Request) -> str:
    """This server's own address: the socket the request came in on, whatever the Host header."""
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class SandboxPage:
    """State and actions behind the page: the modal book, the agent key, the signed sender."""

    def __init__(self, service: Host, slack: SlackStandin) -> None:
        self.service = service
        self.slack = slack
        self.modals = inbox.ModalBook()
        self._key: str | None = None
        self._key_lock = threading.Lock()

    def agent_key(self) -> str:
        """The sandbox agent's key, created (or reused from its file) on first use."""
        with self._key_lock:
            if self._key is None:
                rt = self.service.rt
                self._key = ensure_agent_key(rt, key_file(rt.settings.database_url))
            return self._key

    def sender(self, request: Request) -> SlackSender:
        """A signed sender to this very server."""
        return SlackSender(self_url(request), self.service.integrations.signing_secret)

    def state(self, user: str, item_id: str | None) -> Json:
        """Everything the page polls for."""
        rt = self.service.rt
        trace = None
        if item_id:
            try:
                trace = inbox.trace_of(rt, item_id)
            except NotFound:
                trace = None
        return {
            "person": inbox.person_view(self.slack, self.modals, user),
            "salesforce": inbox.salesforce_view(self.service.integrations.sandbox.salesforce),
            "items": inbox.recent_items(rt),
            "workflows": inbox.workflows(rt),
            "trace": trace,
        }

    def click(self, request: Request, click: ClickIn) -> Json:
        """Send the block_actions payload Slack would send for this click."""
        where: Json = {"home": True} if click.home else {"channel": click.channel, "ts": click.ts}
        if click.kind == "static_select" and not click.home:
            payload = select_action(click.user, click.action_id, click.value, **where)
        else:
            payload = block_action(click.user, click.action_id, click.value, **where)
        self.modals.opened_by(payload["trigger_id"], click.user)
        return self._send(request, lambda s: s.interact(payload))

    def submit(self, request: Request, form: SubmitIn) -> Json:
        """Send the view_submission for an open modal; close it unless Slack kept it open."""
        view = self.modals.view(self.slack, form.view_id, form.user)
        values = {block: {v.action_id: slack_state(v)} for block, v in form.values.items()}
        result = self._send(request, lambda s: s.interact(view_submission(form.user, view, values)))
        if result["status"] == 200 and result["answer"].get("response_action") != "errors":
            self.modals.close(form.view_id)
        return result

    def submit_sample(self, request: Request, name: str) -> Json:
        """Submit a sample item to this server's agent API, as the sandbox agent."""
        sample = SAMPLES.get(name)
        if sample is None:
            raise NotFound(f"no sample {name!r}; samples: {', '.join(SAMPLES)}")
        headers = {
            "Authorization": f"Bearer {self.agent_key()}",
            "Idempotency-Key": f"sandbox:{name}:{uuid.uuid4().hex}",
        }
        with httpx.Client(timeout=15, trust_env=False) as http:
            url = f"{self_url(request)}/api/v1/items"
            response = http.post(url, json=sample.build(), headers=headers)
        return {"status": response.status_code, "answer": answer_of(response)}

    def edit_record(self, edit: RecordEditIn) -> Json:
        """Change an opportunity in the Salesforce stand-in as a person would (no API call)."""
        org = self.service.integrations.sandbox.salesforce
        if org is None or org.get("Opportunity", edit.id) is None:
            raise NotFound(f"no opportunity {edit.id} in the Salesforce stand-in")
        if edit.field not in EDITABLE_FIELDS:
            raise InvalidInput(f"pick one of {', '.join(EDITABLE_FIELDS)}")
        value: Any = edit.value.strip() or None
        if edit.field == "Amount" and value is not None:
            try:
                value = float(value)
            except ValueError:
                raise InvalidInput(f"{edit.value!r} is not an amount") from None
        org.set_field("Opportunity", edit.id, edit.field, value)
        return {"id": edit.id, "field": edit.field, "value": value}

    def command(self, request: Request, user: str, text: str) -> Json:
        """Send `/airlock <text>`; Slack's answer is the command's reply."""
        return self._send(request, lambda s: s.command(user, text))

    def open_home(self, request: Request, user: str) -> Json:
        """Send `app_home_opened`, which makes the bot publish the Home tab."""
        return self._send(request, lambda s: s.home_opened(user))

    def _send(self, request: Request, call: Callable[[SlackSender], httpx.Response]) -> Json:
        sender = self.sender(request)
        try:
            response = call(sender)
        finally:
            sender.close()
        return {"status": response.status_code, "answer": answer_of(response)}


def build_router(page: SandboxPage) -> APIRouter:
    """The page and its JSON endpoints (sync: they call this server back over HTTP)."""
    router = APIRouter(prefix="/sandbox", include_in_schema=False)
    _read_routes(router, page)
    _action_routes(router, page)
    return router


def _read_routes(router: APIRouter, page: SandboxPage) -> None:
    @router.get("")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @router.get("/api/boot")
    def boot() -> Json:
        samples = [
            {"name": s.name, "label": s.label, "reviewer": s.reviewer, "why": s.why}
            for s in SAMPLES.values()
        ]
        return {"people": inbox.people(page.service.rt), "samples": samples}

    @router.get("/api/state")
    def state(user: str, item: str | None = None) -> Json:
        return page.state(user, item)


def _action_routes(router: APIRouter, page: SandboxPage) -> None:
    @router.post("/api/click")
    def click(body: ClickIn, request: Request) -> Json:
        return page.click(request, body)

    @router.post("/api/submit")
    def submit(body: SubmitIn, request: Request) -> Json:
        return page.submit(request, body)

    @router.post("/api/close")
    def close(body: SubmitIn) -> Json:
        page.modals.close(body.view_id)
        return {"closed": body.view_id}

    @router.post("/api/command")
    def command(body: CommandIn, request: Request) -> Json:
        return page.command(request, body.user, body.text)

    @router.post("/api/home")
    def home(body: UserIn, request: Request) -> Json:
        return page.open_home(request, body.user)

    @router.post("/api/items")
    def items(body: SampleIn, request: Request) -> Json:
        return page.submit_sample(request, body.sample)

    @router.post("/api/salesforce/edit")
    def edit_record(body: RecordEditIn) -> Json:
        return page.edit_record(body)


def mount_sandbox(app: FastAPI, service: Host) -> None:
    """Serve /sandbox on this app (only when Slack is the stand-in)."""
    slack = service.integrations.sandbox.slack
    if slack is None:
        return
    page = SandboxPage(service, slack)
    app.state.sandbox = page
    app.include_router(build_router(page))
    app.mount("/sandbox/static", StaticFiles(directory=STATIC), name="sandbox-static")
    # Whoever opens the bare address in the sandbox is looking for the page.
    app.add_api_route(
        "/", lambda: RedirectResponse("/sandbox"), methods=["GET"], include_in_schema=False
    )
