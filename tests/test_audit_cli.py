"""`airlock audit verify` catches modified, deleted and reordered events; the CLI end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.runtime import Runtime
from tests import payloads
from tests.test_lifecycle import assign, post


def airlock(
    settings_env: dict[str, str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=settings_env,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def env(rt: Runtime) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    return clean | {
        "DATABASE_URL": rt.settings.database_url,
        "AIRLOCK_WORKFLOWS": str(rt.settings.workflows_dir),
    }


@pytest.fixture
def story(rt: Runtime, agent_key: str) -> str:
    from bot.core import decisions

    item_id = post(rt, agent_key, payloads.field_update())
    assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, item_id, "U0MAYA")
    post(rt, agent_key, payloads.brief())
    return item_id


def run_sql(rt: Runtime, sql: str, **params: object) -> None:
    with rt.db.write() as session:
        session.execute(text(sql), params)


def test_verify_clean_trail(rt: Runtime, story: str, env: dict[str, str], tmp_path: Path) -> None:
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no tampering" in result.stdout


def test_verify_catches_modified_event(
    rt: Runtime, story: str, env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "UPDATE event SET actor = 'user:U0EVIL' WHERE item_id = :i AND seq = 3", i=story)
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1
    assert f"TAMPERED {story}: event #3" in result.stderr
    assert "modified" in result.stderr


def test_verify_catches_deleted_event(
    rt: Runtime, story: str, env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "DELETE FROM event WHERE item_id = :i AND seq = 2", i=story)
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1
    assert f"TAMPERED {story}" in result.stderr
    assert "missing" in result.stderr


def test_verify_catches_deleted_last_event(
    rt: Runtime, story: str, env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(
        rt,
        "DELETE FROM event WHERE item_id = :i AND seq = (SELECT MAX(seq) FROM event "
        "WHERE item_id = :i)",
        i=story,
    )
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1
    assert f"TAMPERED {story}: the last 1 event(s) were deleted" in result.stderr


def test_verify_catches_reordered_events(
    rt: Runtime, story: str, env: dict[str, str], tmp_path: Path
) -> None:
    run_sql(rt, "UPDATE event SET seq = 100 WHERE item_id = :i AND seq = 1", i=story)
    run_sql(rt, "UPDATE event SET seq = 1 WHERE item_id = :i AND seq = 2", i=story)
    run_sql(rt, "UPDATE event SET seq = 2 WHERE item_id = :i AND seq = 100", i=story)
    result = airlock(env, "audit", "verify", cwd=tmp_path)
    assert result.returncode == 1
    assert f"TAMPERED {story}" in result.stderr


def test_trace_prints_story(rt: Runtime, story: str, env: dict[str, str], tmp_path: Path) -> None:
    result = airlock(env, "trace", story, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for words in ("received", "approved", "user:U0MAYA", "confirmed", "opp-hygiene"):
        assert words in result.stdout
    as_json = json.loads(airlock(env, "trace", story, "--json", cwd=tmp_path).stdout)
    assert [e["type"] for e in as_json["trace"]] == ["received", "pending", "assigned", "approved"]
    missing = airlock(env, "trace", "itm_nope", cwd=tmp_path)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr


def test_keys_lifecycle(rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    created = airlock(
        env,
        "keys",
        "create",
        "--agent",
        "gong-bot",
        "--workflows",
        "opp-hygiene,account-brief",
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("alk_")
    listed = airlock(env, "keys", "list", cwd=tmp_path).stdout
    assert "gong-bot" in listed and "active" in listed and secret not in listed
    key_id = secret.split("_")[1]
    assert airlock(env, "keys", "revoke", key_id, cwd=tmp_path).returncode == 0
    assert "revoked" in airlock(env, "keys", "list", cwd=tmp_path).stdout
    bad = airlock(env, "keys", "create", "--agent", "x", "--workflows", "nope", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown workflow(s) nope" in bad.stderr


def test_workflows_check_and_list(rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    ok = airlock(env, "workflows", "check", cwd=tmp_path)
    assert ok.returncode == 0
    assert ok.stdout.count("ok ") == 5
    listed = airlock(env, "workflows", "list", cwd=tmp_path).stdout
    assert "opp-hygiene" in listed and "crm_write" in listed
    bad = rt.settings.workflows_dir / "broken.yml"
    bad.write_text("id: broken\nname: Broken\nlevel: crm_writ\n")
    failed = airlock(env, "workflows", "check", cwd=tmp_path)
    assert failed.returncode == 1
    assert "broken.yml:3: level:" in failed.stderr


def test_bad_config_names_variable(env: dict[str, str], tmp_path: Path) -> None:
    result = airlock(env | {"PORT": "http"}, "workflows", "check", cwd=tmp_path)
    assert result.returncode == 2
    assert "PORT" in result.stderr
