"""Take the listening socket before anything else starts, so a busy port fails fast and clean."""

from __future__ import annotations

import socket

from bot.base.config import ConfigError


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or ConfigError naming PORT when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"PORT: cannot listen on {host}:{port} ({exc.strerror or exc}): stop what is using "
            "it, or set PORT to a free port (e.g. PORT=3001)"
        ) from None
    sock.set_inheritable(True)
    return sock
