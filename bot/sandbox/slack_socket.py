"""A local Socket Mode endpoint: the WebSocket server that `apps.connections.open` points at.

Slack's side of Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode): the app
opens a WebSocket to the URL `apps.connections.open` returns, Slack says `hello`, then pushes
envelopes `{type, envelope_id, payload, accepts_response_payload}` (`events_api`, `interactive`,
`slash_commands`) and waits for an ack `{envelope_id, payload?}` on the same socket. The shapes
are the ones slack_sdk reads and writes: `slack_sdk/socket_mode/request.py` (`from_dict` needs
type, envelope_id and payload) and `slack_sdk/socket_mode/response.py` (the ack). Bolt's
`SocketModeHandler` uses slack_sdk's built-in client (`slack_sdk/socket_mode/builtin/`), which
connects with plain TCP to any port but 443, so a `ws://127.0.0.1:PORT` URL works.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot.sandbox.slack_api import APP_ID

Envelope = dict[str, Any]


class SocketModeServer:
    """Pushes envelopes to the connected app and collects its acks, keyed by envelope id."""

    def __init__(self) -> None:
        self._server: Server | None = None
        self._outbox: queue.Queue[str] = queue.Queue()
        self._acks: dict[str, Envelope] = {}
        self._changed = threading.Condition()
        self.connections = 0
        self.unmatched: list[str] = []

    def start(self) -> SocketModeServer:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        if self._server is None:
            self._server = serve(self._session, "127.0.0.1", 0)
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close every connection and the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    @property
    def url(self) -> str:
        """What apps.connections.open hands out."""
        if self._server is None:
            raise RuntimeError("SocketModeServer is not started; call start() first")
        port = self._server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"

    def wait_connected(self, timeout: float = 10) -> None:
        """Block until an app has connected and been greeted."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.connections > 0, timeout):
                raise TimeoutError("no app connected to the Socket Mode server")

    def push(self, type_: str, payload: dict[str, Any]) -> str:
        """Send one envelope to the app; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": type_ != "events_api",
        }
        self._outbox.put(json.dumps(envelope))
        return envelope_id

    def ack(self, envelope_id: str, timeout: float = 10) -> Envelope:
        """The app's ack of an envelope (Slack retries unacked envelopes; here it is an error)."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"envelope {envelope_id} was not acked in {timeout} s")
            return self._acks[envelope_id]

    def _session(self, connection: ServerConnection) -> None:
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        connection.send(json.dumps(hello))
        with self._changed:
            self.connections += 1
            self._changed.notify_all()
        try:
            while True:
                self._flush(connection)
                try:
                    raw = connection.recv(timeout=0.02)
                except TimeoutError:
                    continue
                self._received(raw if isinstance(raw, str) else raw.decode())
        except ConnectionClosed:
            return

    def _flush(self, connection: ServerConnection) -> None:
        while True:
            try:
                connection.send(self._outbox.get_nowait())
            except queue.Empty:
                return

    def _received(self, raw: str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not message.get("envelope_id"):
            # Slack ignores what is not an ack; keep it so a test can see a malformed answer.
            self.unmatched.append(raw)
            return
        with self._changed:
            self._acks[str(message["envelope_id"])] = message
            self._changed.notify_all()
