"""Reverted items count: auto-pause's `revert_rate_over`, `airlock report` and export-evals."""

from __future__ import annotations

import io
import json
from pathlib import Path

from bot.base.spec_model import WorkflowSpec
from bot.base.specs import spec_version
from bot.core import autopause, decisions, lifecycle
from bot.core.runtime import Runtime
from bot.reporting.evals_export import write_evals
from bot.reporting.report import render_report, report_rows
from tests import payloads
from tests.writeback_support import REVIEWER, respec, routed


def _written_items(rt: Runtime, agent_key: str, reverted: int, total: int = 10) -> list[str]:
    """`total` approved and written items of opp-hygiene, the first `reverted` of them reverted."""
    states = ["reverted"] * reverted + ["written"] * (total - reverted)
    return [_written(rt, agent_key, f"w{n}", state) for n, state in enumerate(states)]


def _written(rt: Runtime, agent_key: str, key: str, state: str) -> str:
    """An approved item whose write-back ended `state` (through lifecycle, as the revert watch
    and the undo record it)."""
    item_id = routed(rt, agent_key, payloads.field_update(idempotency_key=key))
    decisions.approve(rt, item_id, REVIEWER)
    with rt.db.write() as session:
        lifecycle.update_item(
            session,
            item_id,
            actor="system",
            event=f"writeback_{state}",
            data={},
            writeback_state=state,
        )
    return item_id


def test_auto_pause_on_revert_rate(rt: Runtime, agent_key: str, workflows_dir: Path) -> None:
    respec(rt, workflows_dir, auto_pause={"revert_rate_over": 0.3, "min_decisions": 10})
    _written_items(rt, agent_key, reverted=3)
    assert autopause.check_all(rt) == []  # 30% is not over 30%
    _written(rt, agent_key, "late", "reverted")
    trips = autopause.check_all(rt)
    assert [t.workflow for t in trips] == ["opp-hygiene"]
    assert trips[0].reason == "36% of the last 11 written items were reverted (threshold 30%)"


def test_report_and_evals_count_reverts(rt: Runtime, agent_key: str) -> None:
    ids = _written_items(rt, agent_key, reverted=2, total=4)
    [row] = [
        r for r in report_rows(rt) if r.workflow == "opp-hygiene" and r.segment == "all agents"
    ]
    assert (row.reverted, row.written, row.writes) == (2, 4, 4)
    assert "revert" in render_report([row]).splitlines()[0]
    assert "  50%" in render_report([row]).splitlines()[2]
    out = io.StringIO()
    write_evals(rt, out, "opp-hygiene")
    verdicts = {
        r["id"]: (r["verdict"], r["ideal"]) for r in map(json.loads, out.getvalue().splitlines())
    }
    assert verdicts[ids[0]] == ("reverted", None)
    assert verdicts[ids[3]][0] == "approved" and verdicts[ids[3]][1] is not None


def test_revert_options_are_versioned_only_when_written(rt: Runtime) -> None:
    spec = rt.spec("opp-hygiene").spec
    before = spec_version(spec)
    data = spec.model_dump(exclude_unset=True)
    data["writeback"] = dict(data.get("writeback") or {}) | {"undo_window": "3d"}
    assert spec_version(WorkflowSpec.model_validate(data)) != before
    data["writeback"]["undo_window"] = "7d"  # the default, written out: still a change of text
    assert spec_version(WorkflowSpec.model_validate(data)) != before
