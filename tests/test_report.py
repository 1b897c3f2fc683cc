"""`airlock report` and `airlock export-evals`: decisions become metrics and eval data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.reporting.report import eval_records, report_rows
from tests import payloads
from tests.test_lifecycle import assign, post

REP = "U0MAYA"


@pytest.fixture
def judged(rt: Runtime, agent_key: str) -> dict[str, str]:
    ids = {
        name: post(rt, agent_key, payloads.field_update(idempotency_key=name))
        for name in ("approved", "edited", "rejected")
    }
    ids["task"] = post(rt, agent_key, payloads.task(idempotency_key="task"))
    for item_id in ids.values():
        assign(rt, item_id, REP)
    decisions.approve(rt, ids["approved"], REP)
    decisions.edit(rt, ids["edited"], REP, {"StageName": "Value Proposition"})
    decisions.reject(rt, ids["rejected"], REP, "inaccurate", "stage is wrong")
    decisions.edit(rt, ids["task"], REP, {"task.subject": "Call legal"})
    return ids


def test_report_rates(rt: Runtime, judged: dict[str, str]) -> None:
    row = next(r for r in report_rows(rt) if r.workflow == "opp-hygiene")
    assert (row.received, row.decided, row.approved, row.edited, row.rejected) == (4, 4, 1, 2, 1)
    assert row.rate(row.approved + row.edited) == "75%"
    assert row.reasons == [("inaccurate", 1)]
    assert row.median_decision is not None


def test_export_evals_records(rt: Runtime, judged: dict[str, str]) -> None:
    records = {r["id"]: r for r in eval_records(rt)}
    assert set(records) == set(judged.values())
    edited = records[judged["edited"]]
    assert edited["verdict"] == "edited"
    assert edited["input"]["changes"][0]["value"] == "Negotiation/Review"
    assert edited["output"]["changes"] == [{"field": "StageName", "value": "Negotiation/Review"}]
    assert edited["ideal"]["changes"] == [{"field": "StageName", "value": "Value Proposition"}]
    assert records[judged["task"]]["ideal"]["task"]["subject"] == "Call legal"
    rejected = records[judged["rejected"]]
    assert (rejected["ideal"], rejected["reason"], rejected["reason_text"]) == (
        None,
        "inaccurate",
        "stage is wrong",
    )
    assert records[judged["approved"]]["ideal"] == records[judged["approved"]]["output"]


def test_cli_report_and_export(rt: Runtime, judged: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {
        "DATABASE_URL": rt.settings.database_url,
        "AIRLOCK_WORKFLOWS": str(rt.settings.workflows_dir),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    table = run("report", "--since", "1d")
    assert table.returncode == 0, table.stderr
    line = next(x for x in table.stdout.splitlines() if x.startswith("opp-hygiene"))
    assert "75%" in line and "inaccurate 1" in line
    out = tmp_path / "evals.jsonl"
    exported = run("export-evals", "--out", str(out), "--workflow", "opp-hygiene")
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 judged item(s)" in exported.stderr
    assert len([json.loads(x) for x in out.read_text().splitlines()]) == 4
    unknown = run("export-evals", "--workflow", "nope")
    assert unknown.returncode == 1
    assert "unknown workflow 'nope'" in unknown.stderr
