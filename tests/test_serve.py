"""`airlock serve` as a process: migrates a fresh database, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.sandbox.live import free_port
from tests.slack_driver import wait_for


def test_serve_starts_and_stops_on_sigterm(
    database_url: str, workflows_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {
        "DATABASE_URL": database_url,
        "AIRLOCK_WORKFLOWS": str(workflows_dir),
        "PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def health() -> dict[str, object] | None:
            try:
                return dict(httpx.get(f"{url}/healthz", timeout=1, trust_env=False).json())
            except httpx.HTTPError:
                return None

        assert wait_for(health, timeout=60) == {
            "status": "ok",
            "database": database_url.split(":")[0].split("+")[0],
            "workflows": 5,
        }
        assert httpx.get(f"{url}/sandbox", trust_env=False).status_code == 200
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # uvicorn finishes the graceful shutdown, then re-raises SIGTERM so the exit says why.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert time.monotonic() - started < 20
    assert "/sandbox" in output
    assert "WARNING: SANDBOX MODE" in output
    assert "Application shutdown complete" in output
    assert "Scheduler has been shut down" in output
