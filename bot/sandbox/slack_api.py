"""Slack Web API shapes for the stand-in: ids, data classes, faults and request parsing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TEAM_ID = "T0SANDBOX"
APP_ID = "A0AIRLOCK"
BOT_ID = "B0AIRLOCK"
BOT_USER_ID = "U0AIRLOCK"
# Form-encoded calls carry these as JSON text; JSON calls carry them as objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

Params = dict[str, Any]
Body = dict[str, Any]
Answer = tuple[int, dict[str, str], Body]


class SlackApiFailure(Exception):
    """An API-level error, answered as `{"ok": false, "error": ...}` with HTTP 200."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail

    def body(self) -> Body:
        """The answer Slack gives; refusals of a payload say why in response_metadata."""
        body: Body = {"ok": False, "error": self.error}
        if self.detail:
            body["response_metadata"] = {"messages": [f"[ERROR] {self.detail}"]}
        return body


@dataclass(frozen=True)
class SlackUser:
    """A workspace member as users.info describes them."""

    id: str
    name: str
    real_name: str
    email: str
    tz: str = "UTC"
    tz_offset: int = 0
    is_admin: bool = False
    deleted: bool = False

    def to_api(self) -> Body:
        """The user object Slack returns."""
        profile = {"email": self.email, "real_name": self.real_name, "display_name": self.name}
        body: Body = {"id": self.id, "team_id": TEAM_ID, "name": self.name, "profile": profile}
        body |= {"real_name": self.real_name, "tz": self.tz, "tz_offset": self.tz_offset}
        return body | {"is_admin": self.is_admin, "deleted": self.deleted, "is_bot": False}


@dataclass(frozen=True)
class SlackCall:
    """One request the stand-in answered, failed ones included."""

    method: str
    params: Params
    at: float
    status: int


@dataclass
class SlackMessage:
    """The current version of a posted message; `history` holds earlier {text, blocks}."""

    channel: str
    ts: str
    text: str
    blocks: list[Body]
    thread_ts: str | None = None
    ephemeral_user: str | None = None
    history: list[Body] = field(default_factory=list)
    metadata: Body | None = None

    def to_api(self, *, with_metadata: bool = False) -> Body:
        """The message object Slack returns (metadata only when the caller asks for it)."""
        body: Body = {"type": "message", "ts": self.ts, "text": self.text, "blocks": self.blocks}
        body |= {"user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID}
        if with_metadata and self.metadata is not None:
            body["metadata"] = self.metadata
        return body if self.thread_ts is None else body | {"thread_ts": self.thread_ts}


@dataclass
class SlackView:
    """A modal or Home tab as last set; `history` holds earlier payloads."""

    id: str
    view: Body
    hash: str
    user_id: str | None = None
    trigger_id: str | None = None
    history: list[Body] = field(default_factory=list)

    def to_api(self) -> Body:
        """The view object Slack returns."""
        body = {**self.view, "id": self.id, "team_id": TEAM_ID, "hash": self.hash}
        return body | {"app_id": APP_ID, "bot_id": BOT_ID, "state": {"values": {}}}


@dataclass
class Fault:
    """A failure injected by fail_next: the next `times` calls to `method` get it."""

    method: str
    status: int
    times: int
    retry_after: int | None
    error: str | None
    # "applied, answer lost": the call takes effect, then the caller gets the failure (after
    # `hang` seconds, long enough for its read timeout if set).
    applied: bool = False
    hang: float = 0.0

    def answer(self) -> Answer:
        wait = 1 if self.retry_after is None and self.status == 429 else self.retry_after
        headers = {} if wait is None else {"Retry-After": str(wait)}
        default = "ratelimited" if self.status == 429 else "fatal_error"
        return self.status, headers, {"ok": False, "error": self.error or default}


@dataclass
class StandinState:
    """Everything the stand-in remembers between calls, except its users."""

    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], SlackMessage] = field(default_factory=dict)
    views: dict[str, SlackView] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    used_triggers: set[str] = field(default_factory=set)


def dm_channel_id(user_id: str) -> str:
    """The DM channel id the stand-in gives a user: stable, so tests can predict it."""
    return f"D{user_id[1:]}" if user_id[:1] in ("U", "W") else user_id


def parse_params(query: str, raw: bytes, content_type: str) -> Params:
    """Merge query-string and body parameters the way Slack reads them (the body wins)."""
    params: Params = dict(parse_qsl(query, keep_blank_values=True))
    is_json = "json" in content_type
    try:
        loaded = json.loads(raw or b"{}") if is_json else parse_qsl(raw.decode())
        params |= dict(loaded)
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise SlackApiFailure("invalid_json" if is_json else "invalid_form_data") from exc
    for key in _JSON_FIELDS:
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError as exc:
                error = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                raise SlackApiFailure(error) from exc
    return params


def check_token(authorization: str | None, params: Params, method: str = "") -> None:
    """Refuse a call without a token of the kind the method takes, as Slack does.

    `apps.connections.open` takes only an app-level token (`xapp-`); every other method the
    stand-in serves takes a bot or user token (https://docs.slack.dev/reference/methods/
    apps.connections.open: "App-level token", error `not_allowed_token_type`).
    """
    token = str(params.get("token") or "")
    if authorization and authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    if not token:
        raise SlackApiFailure("not_authed")
    if not token.startswith(("xoxb-", "xoxp-", "xapp-")):
        raise SlackApiFailure("invalid_auth")
    if token.startswith("xapp-") != (method in APP_TOKEN_METHODS):
        raise SlackApiFailure("not_allowed_token_type")
