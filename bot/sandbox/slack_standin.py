"""Local stand-in for the Slack Web API: a real HTTP server on 127.0.0.1 that keeps state."""

from __future__ import annotations

import copy
import functools
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.slack_api import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Answer,
    Body,
    Fault,
    Params,
    SlackApiFailure,
    SlackCall,
    SlackMessage,
    SlackUser,
    SlackView,
    StandinState,
    check_token,
    dm_channel_id,
    parse_params,
)
from bot.sandbox.slack_methods import SlackMethods
from bot.sandbox.slack_oidc import AUTHORIZE_PATH, METHODS, OidcProvider

# Names that lived here before the split stay importable from this module.
__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Answer",
    "Body",
    "Params",
    "SlackApiFailure",
    "SlackCall",
    "SlackMessage",
    "SlackStandin",
    "SlackUser",
    "SlackView",
    "dm_channel_id",
    "parse_params",
]


class SlackStandin(SlackMethods):
    """Slack Web API stand-in: serves real HTTP, keeps state, records calls, injects faults."""

    def __init__(self, users: list[SlackUser] | None = None, port: int = 0) -> None:
        super().__init__(users)
        self._lock = threading.RLock()
        self._port = port
        self._server: _Server | None = None
        self.oidc = OidcProvider()  # Sign in with Slack; register clients in `oidc.clients`

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
        # Taken first: the service's lifespan and a test's teardown may both stop it at once.
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

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
            self._state.faults.append(Fault(method, status, times, retry_after, error))

    def lose_answer(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        error: str = "fatal_error",
        hang: float = 0.0,
    ) -> None:
        """The next `times` calls to `method` take effect, but their answer is a failure.

        Slack documents the case: `fatal_error` "... It's possible some aspect of the operation
        succeeded before the error was raised" (docs.slack.dev/reference/methods/chat.postMessage,
        Errors). With `hang`, the failure comes after that many seconds: a caller whose read
        timeout is shorter sees a timeout instead, as when the answer is lost on the network.
        """
        fault = Fault(method, status, times, None, error, applied=True, hang=hang)
        with self._lock:
            self._state.faults.append(fault)

    def set_delay(self, method: str, seconds: float) -> None:
        """Hold answers to `method` ("*" for any) for `seconds`."""
        with self._lock:
            self._state.delays[method] = seconds

    def reset(self) -> None:
        """Forget calls, messages, views, faults and delays; users stay."""
        with self._lock:
            self._state = StandinState()

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
            fault = self._take_fault(method)
            try:
                params = parse_params(query, body, content_type)
                answer = self._answer(method, params, authorization, fault)
            except SlackApiFailure as failure:
                answer = 200, {}, failure.body()
            self._state.calls.append(SlackCall(method, params, received, answer[0]))
        if fault is not None and fault.applied:
            time.sleep(fault.hang)
            return fault.answer()
        return answer

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """Sign in with Slack's browser step (bot.sandbox.slack_oidc)."""
        with self._lock:
            return self.oidc.authorize(query, self._users)

    def _take_fault(self, method: str) -> Fault | None:
        fault = next(
            (f for f in self._state.faults if f.times > 0 and f.method in (method, "*")), None
        )
        if fault is not None:
            fault.times -= 1
        return fault

    def _answer(
        self, method: str, params: Params, authorization: str | None, fault: Fault | None = None
    ) -> Answer:
        if fault is not None and not fault.applied:
            return fault.answer()
        if method in METHODS:  # the code and the user's own token stand in for a bot token
            return (
                200,
                {},
                {"ok": True, **self.oidc.answer(method, params, authorization, self._users)},
            )
        check_token(authorization, params, method)
        api = self._methods.get(method)
        if api is None:
            raise SlackApiFailure("unknown_method")
        return 200, {}, {"ok": True, **api(params)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], standin: SlackStandin) -> None:
        super().__init__(address, _Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller that timed out (lose_answer with hang) has gone: nothing to report.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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
        self._reply(status, headers, json.dumps(body).encode(), "application/json")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != AUTHORIZE_PATH:
            self.do_POST()
            return
        status, text = cast(_Server, self.server).standin.authorize(dict(parse_qsl(url.query)))
        moved = {"Location": text} if status == 302 else {}
        self._reply(status, moved, b"" if moved else text.encode(), "text/html")

    def _reply(self, status: int, headers: dict[str, str], payload: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; SlackStandin.calls is the log."""
