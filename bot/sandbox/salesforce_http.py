"""The stand-in's HTTP plumbing: a threaded keep-alive server that hands each request on."""

from __future__ import annotations

import contextlib
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol


class Dispatcher(Protocol):
    """What answers the requests: the stand-in."""

    def dispatch(
        self, method: str, target: str, authorization: str, raw: bytes
    ) -> tuple[int, Any]: ...

    def limit_info(self) -> str: ...


class StandinServer(ThreadingHTTPServer):
    """Serves 127.0.0.1:port; remembers open connections so stop() can drop them."""

    daemon_threads = True

    def __init__(self, port: int, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Headers and body leave in two writes; Nagle + delayed ACK would add ~40 ms per call.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop keep-alive connections, which outlive shutdown(): a stopped org must look down."""
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the pooled connections of requests expect
    server: StandinServer

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        dispatcher = self.server.dispatcher
        auth = self.headers.get("Authorization", "")
        status, payload = dispatcher.dispatch(self.command, self.path, auth, raw)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Sforce-Limit-Info", dispatcher.limit_info())
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout): nobody to answer

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the sandbox read `calls` instead."""
