"""Local stand-in for the Slack Web API: a real HTTP server on 127.0.0.1 that keeps state."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

TEAM_ID = "T0SANDBOX"
APP_ID = "A0AIRLOCK"
BOT_ID = "B0AIRLOCK"
BOT_USER_ID = "U0AIRLOCK"
# Form-encoded calls carry these as JSON text; JSON calls carry them as objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")

Params = dict[str, Any]
Body = dict[str, Any]
Answer = tuple[int, dict[str, str], Body]


class SlackApiFailure(Exception):
    """An API-level error, answered as `{"ok": false, "error": ...}` with HTTP 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


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

    def to_api(self) -> Body:
        """The message object Slack returns."""
        body: Body = {"type": "message", "ts": self.ts, "text": self.text, "blocks": self.blocks}
        body |= {"user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID}
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
class _Fault:
    method: str
    status: int
    times: int
    retry_after: int | None
    error: str | None

    def answer(self) -> Answer:
        wait = 1 if self.retry_after is None and self.status == 429 else self.retry_after
        headers = {} if wait is None else {"Retry-After": str(wait)}
        default = "ratelimited" if self.status == 429 else "fatal_error"
        return self.status, headers, {"ok": False, "error": self.error or default}


@dataclass
class _State:
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], SlackMessage] = field(default_factory=dict)
    views: dict[str, SlackView] = field(default_factory=dict)
    home: dict[str, str] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)


class SlackStandin:
    """Slack Web API stand-in: serves real HTTP, keeps state, records calls, injects faults."""

    def __init__(self, users: list[SlackUser] | None = None, port: int = 0) -> None:
        self._lock = threading.RLock()
        self._port = port
        self._server: _Server | None = None
        self._users = {user.id: user for user in users or []}
        self._state = _State()
        self._last_micros = 0
        self._seq = 0
        self._methods: dict[str, Callable[[Params], Body]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete_message,
            "views.open": self._open_view,
            "views.push": self._open_view,
            "views.update": self._update_view,
            "views.publish": self._publish_view,
            "users.info": self._user_info,
            "users.lookupByEmail": self._lookup_by_email,
            "conversations.open": self._open_conversation,
        }

    def start(self) -> SlackStandin:
        """Bind a free port on 127.0.0.1 (or the given one) and serve in a daemon thread."""
        if self._server is None:
            self._server = _Server(("127.0.0.1", self._port), self)
            # A short poll lets stop() return at once instead of after the default half second.
            serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
            name = f"slack-standin-{self._server.server_port}"
            threading.Thread(target=serve, name=name, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackStandin:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Web API base URL, with the trailing slash slack_sdk expects."""
        if self._server is None:
            raise RuntimeError("SlackStandin is not started; call start() first")
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    def add_user(self, user: SlackUser) -> None:
        """Add or replace a workspace member."""
        with self._lock:
            self._users[user.id] = user

    def fail_next(
        self,
        method: str,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Make the next `times` calls to `method` ("*" for any) fail with `status`."""
        with self._lock:
            self._state.faults.append(_Fault(method, status, times, retry_after, error))

    def set_delay(self, method: str, seconds: float) -> None:
        """Hold answers to `method` ("*" for any) for `seconds`."""
        with self._lock:
            self._state.delays[method] = seconds

    def reset(self) -> None:
        """Forget calls, messages, views, faults and delays; users stay."""
        with self._lock:
            self._state = _State()

    @property
    def calls(self) -> list[SlackCall]:
        """Every call answered so far, oldest first."""
        with self._lock:
            return copy.deepcopy(self._state.calls)

    @property
    def messages(self) -> dict[tuple[str, str], SlackMessage]:
        """Current version of every message, by (channel, ts)."""
        with self._lock:
            return copy.deepcopy(self._state.messages)

    @property
    def views(self) -> dict[str, SlackView]:
        """Every opened, pushed or published view, by view id."""
        with self._lock:
            return copy.deepcopy(self._state.views)

    def calls_to(self, method: str) -> list[SlackCall]:
        """Calls made to one API method, oldest first."""
        with self._lock:
            return copy.deepcopy([call for call in self._state.calls if call.method == method])

    def messages_for(self, user_or_channel: str) -> list[SlackMessage]:
        """Messages in a channel, or in a user's DM plus ephemerals shown to them, oldest first."""
        channels = {user_or_channel, dm_channel_id(user_or_channel)}
        with self._lock:
            found = [
                msg
                for msg in self._state.messages.values()
                if (msg.ephemeral_user is None and msg.channel in channels)
                or msg.ephemeral_user == user_or_channel
            ]
            # Every ts minted here has ten digits of seconds, so text order is time order.
            return copy.deepcopy(sorted(found, key=lambda msg: msg.ts))

    def home_view(self, user_id: str) -> SlackView | None:
        """The Home tab last published for a user, if any."""
        with self._lock:
            view_id = self._state.home.get(user_id)
            return None if view_id is None else copy.deepcopy(self._state.views[view_id])

    def handle(
        self,
        method: str,
        body: bytes,
        *,
        query: str = "",
        content_type: str = "application/x-www-form-urlencoded",
        authorization: str | None = None,
    ) -> Answer:
        """Answer one raw API call as Slack would and record it; HTTP only moves bytes."""
        received = time.time()
        with self._lock:
            delay = self._state.delays.get(method, self._state.delays.get("*", 0.0))
        time.sleep(delay)
        with self._lock:
            params: Params = {}
            try:
                params = parse_params(query, body, content_type)
                answer = self._answer(method, params, authorization)
            except SlackApiFailure as failure:
                answer = 200, {}, {"ok": False, "error": failure.error}
            self._state.calls.append(SlackCall(method, params, received, answer[0]))
            return answer

    def _answer(self, method: str, params: Params, authorization: str | None) -> Answer:
        fault = next(
            (f for f in self._state.faults if f.times > 0 and f.method in (method, "*")), None
        )
        if fault is not None:
            fault.times -= 1
            return fault.answer()
        _check_token(authorization, params)
        api = self._methods.get(method)
        if api is None:
            raise SlackApiFailure("unknown_method")
        return 200, {}, {"ok": True, **api(params)}

    def _next_ts(self) -> str:
        # Slack ts values are unique and sort by time; callers key stored cards on them.
        micros = max(time.time_ns() // 1000, self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08X}"

    def _user(self, user_id: str, error: str = "user_not_found") -> SlackUser:
        if user_id not in self._users:
            raise SlackApiFailure(error)
        return self._users[user_id]

    def _channel(self, params: Params) -> str:
        channel = _required(params, "channel", "channel_not_found")
        if channel[:1] in ("U", "W"):
            return dm_channel_id(self._user(channel, "channel_not_found").id)
        return channel

    def _message(self, params: Params) -> SlackMessage:
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        msg = self._state.messages.get(key)
        if msg is None or msg.ephemeral_user is not None:
            raise SlackApiFailure("message_not_found")
        return msg

    def _view(self, params: Params) -> SlackView:
        wanted, external = params.get("view_id"), params.get("external_id")
        for view in self._state.views.values():
            if view.id == wanted or (external and view.view.get("external_id") == external):
                if params.get("hash") and params["hash"] != view.hash:
                    raise SlackApiFailure("hash_conflict")
                return view
        raise SlackApiFailure("not_found")

    def _replace_view(self, view: SlackView, payload: Body) -> Body:
        view.history.append(view.view)
        view.view, view.hash = payload, self._next_id("H")
        return {"view": view.to_api()}

    def _auth_test(self, params: Params) -> Body:
        return {
            "url": "https://airlock-sandbox.slack.com/",
            "team": "Airlock Sandbox",
            "user": "airlock",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, params: Params) -> Body:
        channel = self._channel(params)
        text, blocks = _content(params, None)
        msg = SlackMessage(channel, self._next_ts(), text, blocks, params.get("thread_ts"))
        self._state.messages[(channel, msg.ts)] = msg
        return {"channel": channel, "ts": msg.ts, "message": msg.to_api()}

    def _update_message(self, params: Params) -> Body:
        msg = self._message(params)
        text, blocks = _content(params, msg)
        msg.history.append({"text": msg.text, "blocks": msg.blocks})
        msg.text, msg.blocks = text, blocks
        return {"channel": msg.channel, "ts": msg.ts, "text": text, "message": msg.to_api()}

    def _post_ephemeral(self, params: Params) -> Body:
        channel = self._channel(params)
        user = self._user(_required(params, "user", "user_not_found"))
        text, blocks = _content(params, None)
        msg = SlackMessage(channel, self._next_ts(), text, blocks, ephemeral_user=user.id)
        self._state.messages[(channel, msg.ts)] = msg
        return {"message_ts": msg.ts}

    def _delete_message(self, params: Params) -> Body:
        msg = self._message(params)
        del self._state.messages[(msg.channel, msg.ts)]
        return {"channel": msg.channel, "ts": msg.ts}

    def _open_view(self, params: Params) -> Body:
        trigger_id = _required(params, "trigger_id", "invalid_arguments")
        payload = _view_payload(params, "modal")
        view = SlackView(self._next_id("V"), payload, self._next_id("H"), trigger_id=trigger_id)
        self._state.views[view.id] = view
        return {"view": view.to_api()}

    def _update_view(self, params: Params) -> Body:
        view = self._view(params)
        return self._replace_view(view, _view_payload(params, str(view.view.get("type"))))

    def _publish_view(self, params: Params) -> Body:
        user = self._user(_required(params, "user_id", "invalid_arguments"))
        payload = _view_payload(params, "home")
        if user.id in self._state.home:
            # Slack keeps one Home view per user and app; a publish replaces its content.
            view = self._view({"view_id": self._state.home[user.id], "hash": params.get("hash")})
            return self._replace_view(view, payload)
        view = SlackView(self._next_id("V"), payload, self._next_id("H"), user_id=user.id)
        self._state.views[view.id] = view
        self._state.home[user.id] = view.id
        return {"view": view.to_api()}

    def _user_info(self, params: Params) -> Body:
        return {"user": self._user(_required(params, "user", "user_not_found")).to_api()}

    def _lookup_by_email(self, params: Params) -> Body:
        email = _required(params, "email", "users_not_found").lower()
        for user in self._users.values():
            if user.email.lower() == email:
                return {"user": user.to_api()}
        raise SlackApiFailure("users_not_found")

    def _open_conversation(self, params: Params) -> Body:
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}, "already_open": True}
        raw = params.get("users") or []
        ids = raw if isinstance(raw, list) else str(raw).split(",")
        users = sorted(self._user(user_id.strip()).id for user_id in ids if user_id.strip())
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        if len(users) == 1:
            return {"channel": {"id": dm_channel_id(users[0]), "is_im": True}}
        digest = hashlib.sha1(",".join(users).encode()).hexdigest()[:10].upper()
        return {"channel": {"id": f"G{digest}", "is_mpim": True}}


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


def _required(params: Params, key: str, error: str) -> str:
    value = params.get(key)
    if not value or not isinstance(value, str):
        raise SlackApiFailure(error)
    return value


def _content(params: Params, current: SlackMessage | None) -> tuple[str, list[Body]]:
    # chat.update keeps whatever the call leaves out, as Slack does; a post needs something.
    text = str(params.get("text") or (current.text if current else ""))
    blocks = params.get("blocks", current.blocks if current else [])
    # Slack refuses malformed or over-long block lists; builders should hear about it here too.
    well_formed = isinstance(blocks, list) and all(
        isinstance(b, dict) and "type" in b for b in blocks
    )
    if not well_formed or len(blocks) > 50:
        raise SlackApiFailure("invalid_blocks")
    if not text and not blocks and not params.get("attachments"):
        raise SlackApiFailure("no_text")
    return text, blocks


def _view_payload(params: Params, kind: str) -> Body:
    view = params.get("view")
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackApiFailure("invalid_arguments")
    return view


def _check_token(authorization: str | None, params: Params) -> None:
    token = str(params.get("token") or "")
    if authorization and authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    if not token:
        raise SlackApiFailure("not_authed")
    if not token.startswith(("xoxb-", "xoxp-")):
        raise SlackApiFailure("invalid_auth")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: SlackStandin) -> None:
        super().__init__(address, _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    """Moves bytes only; SlackStandin.handle decides every answer."""

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if not url.path.startswith("/api/"):
            self.send_error(404)
            return
        status, headers, body = cast(_Server, self.server).standin.handle(
            method=url.path.removeprefix("/api/"),
            body=self.rfile.read(int(self.headers.get("Content-Length") or 0)),
            query=url.query,
            content_type=self.headers.get("Content-Type", ""),
            authorization=self.headers.get("Authorization"),
        )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; SlackStandin.calls is the log."""
