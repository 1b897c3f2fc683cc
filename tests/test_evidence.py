"""Evidence bundles: exported signed, verified offline, and any edit to them is named."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bot.base.canonical import canonical_json
from bot.cli import app
from bot.core import decisions, lifecycle
from bot.core.checkpoint import sign
from bot.core.evidence import bundle_lines
from bot.core.evidence_check import verify
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
    honest = file.read_text()
    file.write_text("".join(reseal(unsigned_header(honest.splitlines(keepends=True)), None)))
    forged = runner.invoke(app, ["evidence", "verify", str(file)])
    assert forged.exit_code == 1 and "TAMPERED unsigned bundle" in forged.output, forged.output
    file.write_text(honest.replace("inaccurate", "accurate"))
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


def reseal(lines: list[str], key: str | None) -> list[str]:
    """The bundle's lines with the signature line recomputed, as a forger would."""
    body_lines = [line for line in lines if '"type":"signature"' not in line]
    digest = hashlib.sha256("".join(body_lines).encode()).hexdigest()
    body = {"lines": len(body_lines), "sha256": digest}
    seal = {"type": "signature", **body, "signature": sign(body, key)}
    return [*body_lines, canonical_json(seal) + "\n"]


def unsigned_header(lines: list[str]) -> list[str]:
    header = json.loads(lines[0]) | {"signed": False}
    return [canonical_json(header) + "\n", *lines[1:]]


def test_verify_with_a_key_refuses_a_bundle_rewritten_unsigned(
    rt: Runtime, story: list[str]
) -> None:
    honest = export(rt, KEY)
    assert verify(honest, KEY).problems == []
    forged = reseal(unsigned_header(honest), None)
    found = verify(forged, KEY)
    assert any("unsigned" in p and "AIRLOCK_AUDIT_KEY" in p for p in found.problems), found
    # Left with its header saying signed, the rewrite is named too.
    assert verify(reseal(honest, None), KEY).problems != []
    # One signed under another key is no better.
    assert "signature does not match" in verify(reseal(honest, "not-the-key"), KEY).problems[0]


def first_event_of(lines: list[str], stream: str) -> int:
    return next(
        i
        for i, line in enumerate(lines)
        if '"type":"event"' in line and json.loads(line)["stream"] == stream
    )


def test_verify_names_a_stream_cut_at_its_head(rt: Runtime, story: list[str]) -> None:
    with rt.db.write() as session:
        for paused in (True, False, True):
            lifecycle.set_paused(session, "opp-hygiene", paused=paused, actor="user:U0OLIVIA")
    honest = export(rt, None)
    assert verify(honest, None).problems == []
    for stream in (story[0], "workflow:opp-hygiene"):
        at = first_event_of(honest, stream)
        cut = reseal(honest[:at] + honest[at + 1 :], None)
        found = verify(cut, None)
        assert any(stream in p and "starts at" in p for p in found.problems), (stream, found)
    # With a key, a cut head of a keyed bundle resealed unsigned is named twice over.
    keyed = export(rt, KEY)
    at = first_event_of(keyed, story[1])
    found = verify(reseal(unsigned_header(keyed[:at] + keyed[at + 1 :]), None), KEY)
    assert len(found.problems) == 2 and "starts at" in found.problems[0], found
