"""Evidence bundles: exported signed, verified offline, and any edit to them is named."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.base.canonical import canonical_json
from bot.cli import app
from bot.core import decisions
from bot.core.evidence import bundle_lines, verify
from bot.core.runtime import Runtime
from bot.server import create_app
from tests import payloads
from tests.test_lifecycle import assign, post

KEY = "evidence-test-key"


@pytest.fixture
def story(rt: Runtime, agent_key: str) -> list[str]:
    """Two decided items of opp-hygiene and one of another workflow."""
    ids = [post(rt, agent_key, payloads.field_update(idempotency_key=f"e{i}")) for i in range(2)]
    for item_id in ids:
        assign(rt, item_id, "U0MAYA")
    decisions.approve(rt, ids[0], "U0MAYA")
    decisions.reject(rt, ids[1], "U0MAYA", "inaccurate", "no")
    post(rt, agent_key, payloads.brief())
    return ids


def export(rt: Runtime, key: str | None) -> list[str]:
    now = rt.clock()
    with rt.db.read() as session:
        return list(
            bundle_lines(
                session, "opp-hygiene", now - timedelta(days=1), now + timedelta(days=1), key, now
            )
        )


def test_bundle_holds_the_workflow_items_and_events(rt: Runtime, story: list[str]) -> None:
    lines = export(rt, KEY)
    records = [json.loads(line) for line in lines]
    assert records[0]["type"] == "header" and records[0]["workflow"] == "opp-hygiene"
    assert any(r["type"] == "spec" for r in records)
    assert [r["item"]["id"] for r in records if r["type"] == "item"] == story
    decided = [r for r in records if r["type"] == "event" and r["event_type"] == "rejected"]
    assert decided and decided[0]["actor"] == "user:U0MAYA"
    found = verify(lines, KEY)
    assert (found.problems, found.items, found.signed) == ([], 2, True)
    assert found.events == sum(1 for r in records if r["type"] == "event")


def test_verify_names_edits_cuts_and_wrong_keys(rt: Runtime, story: list[str]) -> None:
    lines = export(rt, KEY)
    event_at = next(i for i, line in enumerate(lines) if '"type":"event"' in line)
    edited = list(lines)
    record = json.loads(lines[event_at]) | {"actor": "user:U0LEO"}
    edited[event_at] = canonical_json(record) + "\n"
    assert any("altered" in p for p in verify(edited, KEY).problems)
    assert "cut short" in verify(lines[:-1], KEY).problems[0]
    dropped = lines[:event_at] + lines[event_at + 1 :]
    assert any("signed digest" in p for p in verify(dropped, KEY).problems)
    assert "signature does not match" in verify(lines, "another key").problems[0]
    no_key = verify(lines, None)
    assert no_key.problems == [] and "set AIRLOCK_AUDIT_KEY" in no_key.notes[0]


def test_unsigned_bundle_says_so(rt: Runtime, story: list[str]) -> None:
    found = verify(export(rt, None), None)
    assert found.problems == [] and not found.signed and "unsigned" in found.notes[0]


def test_cli_exports_and_verifies(
    rt: Runtime, story: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "DATABASE_URL": rt.settings.database_url,
        "AIRLOCK_WORKFLOWS": str(rt.settings.workflows_dir),
        "AIRLOCK_AUDIT_KEY": KEY,
    }
    runner, file = CliRunner(env=env), tmp_path / "bundle.jsonl"
    today = rt.clock().date()
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    args = ["evidence", "export", str(file), "--workflow", "opp-hygiene"]
    done = runner.invoke(app, [*args, "--since", since, "--until", until])
    assert done.exit_code == 0, done.output
    checked = runner.invoke(app, ["evidence", "verify", str(file)])
    assert checked.exit_code == 0 and "ok: opp-hygiene: 2 items" in checked.output
    file.write_text(file.read_text().replace("inaccurate", "accurate"))
    assert runner.invoke(app, ["evidence", "verify", str(file)]).exit_code == 1
    wrong = runner.invoke(app, [*args, "--since", until, "--until", since])
    assert wrong.exit_code == 2 and "--until is before --since" in wrong.output


def test_console_downloads_the_bundle(rt: Runtime, story: list[str]) -> None:
    web = TestClient(create_app(rt), follow_redirects=False)
    assert web.get("/console/evidence?workflow=opp-hygiene").status_code == 303
    web.post("/console/signin", data={"user": "U0OLIVIA"})
    answer = web.get("/console/evidence", params={"workflow": "opp-hygiene"})
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    lines = answer.text.splitlines(keepends=True)
    assert verify(lines, rt.settings.audit_key_value).problems == []
