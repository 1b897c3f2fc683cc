"""Events MACed under AIRLOCK_AUDIT_KEY as they are written; verify against exported checkpoints.

A signed checkpoint only covers what it saw; the newest events (after it) were rewritable by
anyone holding the database but not the key. Each event now carries an HMAC of its chain hash.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.base.config import Settings
from bot.core import checkpoint, decisions
from bot.core.runtime import Runtime
from tests import payloads
from tests.test_audit_cli import airlock, run_sql
from tests.test_audit_cli import env as env
from tests.test_audit_tamper import KEY, recompute_approval, verify_fails
from tests.test_audit_tamper import keyed_env as keyed_env
from tests.test_lifecycle import assign, post


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The runtime holds the key from its start, so every event it writes is MACed."""
    return settings.model_copy(update={"audit_key": SecretStr(KEY)})


@pytest.fixture
def fresh(rt: Runtime, agent_key: str) -> str:
    """A field update signed by a checkpoint, then approved seconds later (after it)."""
    item_id = post(rt, agent_key, payloads.field_update())
    assert checkpoint.write_checkpoint(rt.db, KEY) == 1
    assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, item_id, "U0MAYA")
    return item_id


def test_verify_passes_keyed_events(fresh: str, keyed_env: dict[str, str], tmp_path: Path) -> None:
    result = airlock(keyed_env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no notes, and no progress bar off a terminal


def test_verify_catches_newest_event_rewritten_after_the_last_checkpoint(
    rt: Runtime, fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    recompute_approval(rt, fresh, "user:U0EVIL")
    stderr = verify_fails(keyed_env, tmp_path, f"TAMPERED {fresh}: event #")
    assert "(approved) does not match its MAC" in stderr
    assert "without AIRLOCK_AUDIT_KEY" in stderr


def test_verify_catches_newest_event_rewritten_with_its_mac_removed(
    rt: Runtime, fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    recompute_approval(rt, fresh, "user:U0EVIL")
    run_sql(rt, "UPDATE event SET mac = NULL WHERE stream = :i", i=fresh)
    verify_fails(keyed_env, tmp_path, f"TAMPERED {fresh}: event #1 (received) carries no MAC")


def test_verify_without_the_key_says_macs_were_not_checked(
    fresh: str, env: dict[str, str], tmp_path: Path
) -> None:
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "event(s) were not checked: set AIRLOCK_AUDIT_KEY" in result.stderr


def test_verify_catches_events_written_without_the_key_after_keyed_ones(
    rt: Runtime, agent_key: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    rt.db.audit_key = None  # a replica started without AIRLOCK_AUDIT_KEY
    item_id = post(rt, agent_key, payloads.brief())
    verify_fails(keyed_env, tmp_path, f"TAMPERED {item_id}: event #1 (received) carries no MAC")


def exported_line(env: dict[str, str], tmp_path: Path) -> str:
    result = airlock(env, "audit", "checkpoint", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("checkpoint #"), line
    return line


def test_verify_against_exported_checkpoint_passes(
    fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    line = exported_line(keyed_env, tmp_path)
    result = airlock(keyed_env, "audit", "verify", "--checkpoint", line, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "exported checkpoint #2 found unchanged" in result.stderr
    saved = tmp_path / "exported.txt"
    saved.write_text("checkpoint #1 " + " ".join(line.split()[2:]) + "\n" * 2, encoding="utf-8")
    result = airlock(keyed_env, "audit", "verify", "--checkpoint", str(saved), cwd=tmp_path)
    assert result.returncode == 1
    assert "checkpoint #1 differs from the exported line" in result.stderr


def test_verify_against_exported_checkpoint_catches_newest_checkpoints_deleted(
    rt: Runtime, fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    line = exported_line(keyed_env, tmp_path)
    # Delete the newest checkpoint whole: the database alone no longer shows it existed.
    run_sql(rt, "DELETE FROM audit_checkpoint WHERE seq = 2")
    assert airlock(keyed_env, "audit", "verify", cwd=tmp_path).returncode == 0
    found = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "verify", "--checkpoint", "-"],
        input=line.removeprefix("checkpoint ") + "\n",
        capture_output=True,
        text=True,
        env=keyed_env,
        cwd=tmp_path,
        timeout=60,
    )
    assert found.returncode == 1, found.stderr
    assert "TAMPERED checkpoints: exported checkpoint #2" in found.stderr
    assert "is missing from the database (newest there: #1)" in found.stderr


def test_verify_refuses_a_malformed_exported_checkpoint(
    fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    result = airlock(keyed_env, "audit", "verify", "--checkpoint", "#x yesterday", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not `#N time signature`" in result.stderr


def test_verify_draws_a_progress_bar_on_a_terminal_only(
    fresh: str, keyed_env: dict[str, str], tmp_path: Path
) -> None:
    main, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "audit", "verify"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env=keyed_env | {"COLUMNS": "100"},
            cwd=tmp_path,
            timeout=60,
        )
        os.close(terminal)
        drawn = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's last writer has gone
            while chunk := os.read(main, 4096):
                drawn += chunk
    finally:
        os.close(main)
    assert done.returncode == 0
    assert b"verifying events" in drawn and b"100%" in drawn, drawn
