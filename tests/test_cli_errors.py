"""Start-up and command errors are one line that says what to fix, and change nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bot.sandbox.live import free_port


def airlock(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    base.pop("DATABASE_URL", None)
    (tmp_path / "run").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path / "run",
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_busy_port_names_port_and_creates_nothing(tmp_path: Path, workflows_dir: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        done = airlock(tmp_path, "serve", PORT=str(port), AIRLOCK_WORKFLOWS=str(workflows_dir))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"PORT: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "listening" not in done.stdout and "Traceback" not in done.stderr
    assert list((tmp_path / "run").iterdir()) == []


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/airlock"
    done = airlock(tmp_path, "db", "upgrade", DATABASE_URL=url)
    assert done.returncode == 2
    assert done.stderr.startswith("airlock: cannot use the database in DATABASE_URL (")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_report_window_typo_says_how_to_write_it(tmp_path: Path, workflows_dir: Path) -> None:
    done = airlock(tmp_path, "report", "--since", "yesterday", AIRLOCK_WORKFLOWS=str(workflows_dir))
    assert done.returncode == 2
    assert "'yesterday' is not a window" in done.stderr and "7d" in done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "run").iterdir()) == []
