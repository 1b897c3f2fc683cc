"""Shared by the benchmarks: free ports and bench servers started as their own processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    kind: str, url: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Run `bench/_server.py KIND` on a free port (no real Slack or Salesforce credentials
    leak in); returns the process and its base URL once /healthz answers."""
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench/_server.py"),
            kind,
            str(port),
            url,
            str(ROOT / "workflows"),
        ],
        env=base_env | (env or {}),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/healthz", trust_env=False, timeout=0.5)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} server did not start")


@contextmanager
def scratch_database(server: str, tmp: str, label: str) -> Iterator[str]:
    """A throwaway database: a SQLite file in `tmp`, or one created on a PostgreSQL server
    (dropped after)."""
    if not server:
        yield f"sqlite:///{tmp}/{label}.db"
        return
    name = f"airlock_bench_{label}_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_idle(url: str, timeout: float = 600.0) -> None:
    """Wait until the server at database `url` has delivered its outbox (cards posted, writes
    done), so a measurement starts from a quiet server as a person's click would."""
    pending = "SELECT count(*) FROM outbox WHERE status = 'pending' AND due_at <= :now"
    wait_count(url, pending, 0, "the server's outbox to be delivered", timeout)


def wait_count(url: str, query: str, wanted: int, what: str, timeout: float = 600.0) -> None:
    """Poll a `SELECT count(*)` on database `url` (`:now` is bound to the current UTC time)
    until it answers `wanted`; RuntimeError after `timeout` seconds."""
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                now = datetime.now(UTC).replace(tzinfo=None)
                if conn.execute(text(query), {"now": now}).scalar() == wanted:
                    return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise RuntimeError(f"waited {timeout:.0f} s for {what}")
