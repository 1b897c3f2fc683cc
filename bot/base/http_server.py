"""How `airlock serve` runs uvicorn: bounded connections and a deadline for reading each request.

uvicorn (0.54) arms its keep-alive timer only after a response; a connection that sends nothing,
or half a request line, or headers a byte at a time, is held open forever. Such connections
exhausted file descriptors under test. GuardedH11Protocol gives every request a deadline to
arrive whole (headers and body); past it the connection is closed. Responses are never cut.
Run a reverse proxy with its own timeouts and body limits in front in production (README).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

# Agents and Slack send small bodies at once: 15 s to deliver one whole request is generous.
REQUEST_READ_SECONDS = 15.0
# Beyond this many open connections or tasks, uvicorn answers 503 instead of queueing more.
MAX_CONCURRENCY = 256
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline on every request, the first included."""

    read_seconds = REQUEST_READ_SECONDS
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # a new request starts on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is in (or the connection is done)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()


def server_config(app: Any, *, host: str, port: int, **extra: Any) -> uvicorn.Config:
    """The uvicorn settings every Airlock server uses (`airlock serve`, tests, the sandbox)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=MAX_CONCURRENCY,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        **extra,
    )
