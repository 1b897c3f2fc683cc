"""Autonomy on evidence: promote rules with every number, demotion, losing it on regression."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.base.specs import load_spec_file
from bot.core import autonomy, autonomy_watch, lifecycle, lift
from bot.core.autonomy_evidence import LiftLike, LiftSource, inferior, next_hour, wilson_lower
from bot.core.effects import NOTIFY
from bot.core.runtime import Runtime
from bot.reporting import queries
from bot.service import EVIDENCE_CHECK_MINUTES, Service
from bot.slack import commands
from models import Event, Item, Outbox
from models.types import utcnow
from tests.test_autonomy import ADMIN, OWNER, decide_many
from tests.test_specs import VALID, errors_of, write

WORKFLOW = "opp-hygiene"


@dataclass(frozen=True)
class Lift:
    metric: str
    lift: float
    low: float
    high: float
    enough: bool = True


def independent_wilson_lower(successes: int, trials: int, z: float = 1.96) -> float:
    """The p below the observed rate where |rate - p| = z * sqrt(p(1-p)/n), by bisection."""
    rate, lo, hi = successes / trials, 0.0, successes / trials
    for _ in range(200):
        mid = (lo + hi) / 2
        if rate - mid > z * math.sqrt(mid * (1 - mid) / trials):
            lo = mid
        else:
            hi = mid
    return lo


@pytest.mark.parametrize(("wins", "n"), [(50, 50), (45, 50), (1, 3), (97, 100), (0, 10)])
def test_wilson_lower_matches_independent_solution(wins: int, n: int) -> None:
    assert wilson_lower(wins, n) == pytest.approx(independent_wilson_lower(wins, n), abs=1e-9)


def test_wilson_lower_known_values() -> None:
    assert wilson_lower(45, 50) == pytest.approx(0.7864, abs=1e-4)
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(45, 50, z=2.576) < wilson_lower(45, 50)


def test_inferior_names_each_failing_metric() -> None:
    lifts = [
        Lift("stage_moved", 0.01, -0.02, 0.04),
        Lift("next_step", -0.05, -0.09, -0.01),
        Lift("meeting", 0.0, -0.5, 0.5, enough=False),
    ]
    failing = inferior(lifts, 0.05)
    assert failing == [
        "next_step: lift could be as low as -0.090, below -0.050",
        "meeting: not enough holdout outcomes yet",
    ]
    assert inferior(lifts[:1], 0.05) == []
    assert inferior(lifts[:1], 0.01) != []


def test_next_hour_rounds_up_only_inside_an_hour() -> None:
    moment = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # the hour after it is next year
    assert next_hour(moment) == moment
    assert next_hour(moment + timedelta(seconds=1)) == moment + timedelta(hours=1)


def set_writes(rt: Runtime, written: int, reverted: int) -> None:
    """Mark the first approved items written, then some of them reverted."""
    with rt.db.write() as session:
        ids = session.exec(
            select(Item.id).where(col(Item.status) == "approved").order_by(col(Item.id))
        ).all()
        for n, item_id in enumerate(ids[: written + reverted]):
            state = "reverted" if n < reverted else "written"
            lifecycle.update_item(
                session, item_id, actor="test", event="test_write", data={}, writeback_state=state
            )


def test_promote_refused_answers_every_number(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=48, rejected=2)
    set_writes(rt, written=40, reverted=4)
    text = commands.run(rt, OWNER, f"promote {WORKFLOW}").text
    assert text.startswith("Not yet (")
    assert "Wilson lower bound 0.865 < 0.900" in text
    assert "revert rate 9.1% >= 5.0%" in text
    assert "50 human decisions since the start (needs >= 50)" in text
    assert "48 approved without edits, Wilson lower bound 0.865 (needs >= 0.900)" in text
    assert "4 of 44 writes reverted, 9.1% (needs < 5.0%)" in text
    assert "no outcome holdout" in text


def test_promote_refused_on_reverts_alone(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    set_writes(rt, written=18, reverted=2)
    granted, found = autonomy.promote(rt, WORKFLOW, OWNER)
    assert not granted
    assert found.shortfalls() == ["revert rate 10.0% >= 5.0%"]
    set_writes(rt, written=49, reverted=1)  # 1 of 50: 2%
    granted, found = autonomy.promote(rt, WORKFLOW, OWNER)
    assert granted, str(found)
    assert (found.decisions, found.clean, found.written, found.reverted) == (50, 50, 50, 1)


def holdout(*lifts: Lift) -> LiftSource:
    def read(session: Session, workflow_id: str) -> Sequence[LiftLike]:
        assert workflow_id == WORKFLOW
        return lifts

    return read


def test_promote_judges_the_holdout_lift(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    worse = holdout(Lift("stage_moved", -0.04, -0.08, 0.0))
    granted, found = autonomy.promote(rt, WORKFLOW, OWNER, lifts=worse)
    assert not granted
    assert found.shortfalls() == ["stage_moved: lift could be as low as -0.080, below -0.050"]
    assert "holdout: stage_moved lift -0.040 [-0.080, +0.000] (needs low >= -0.050)" in str(found)
    fine = holdout(Lift("stage_moved", 0.01, -0.03, 0.05))
    assert autonomy.promote(rt, WORKFLOW, OWNER, lifts=fine)[0]


def test_holdout_lifts_read_only_where_the_spec_holds_out(rt: Runtime) -> None:
    spec = rt.spec(WORKFLOW).spec
    assert autonomy.holdout_source(spec) is None
    held = spec.outcome.model_copy(update={"holdout": 0.1})
    assert autonomy.holdout_source(spec.model_copy(update={"outcome": held})) is lift.lifts


def test_promote_counts_only_decisions_since_the_last_demotion(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    answer = commands.run(rt, OWNER, f"promote {WORKFLOW}")
    assert answer.public and "50 human decisions since the start" in answer.text
    assert commands.run(rt, ADMIN, f"demote {WORKFLOW}").public
    text = commands.run(rt, OWNER, f"promote {WORKFLOW}").text
    assert text.startswith("Not yet (0 human decisions, needs 50")
    # Items arriving from the next whole hour on count; auto-accepted ones never do.
    later = next_hour(utcnow()) + timedelta(minutes=1)
    rt.clock = lambda: later
    decide_many(rt, agent_key, approved=50, prefix="again")
    granted, found = autonomy.promote(rt, WORKFLOW, OWNER)
    assert granted and found.decisions == 50 and found.since is not None


def notices(rt: Runtime) -> list[dict[str, str]]:
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    return [r.payload for r in rows if r.payload.get("reason") == "demoted"]


def test_demote_rights_and_owner_told(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    assert autonomy.promote(rt, WORKFLOW, OWNER)[0]
    refused = commands.run(rt, "U0MAYA", f"demote {WORKFLOW}")
    assert "only the owner (<@U0OLIVIA>) or an admin can demote" in refused.text
    answer = commands.run(rt, ADMIN, f"demote {WORKFLOW}")
    assert answer.public and "demoted `opp-hygiene`" in answer.text
    assert [n["to"] for n in notices(rt)] == [OWNER]
    assert "demoted by <@U0ADMIN>" in notices(rt)[0]["text"]
    states = {s.id: s for s in queries.workflow_states(rt)}
    assert states[WORKFLOW].mode == "review"
    again = commands.run(rt, OWNER, f"demote {WORKFLOW}")
    assert "is not on autopilot" in again.text


def test_evidence_below_the_bar_demotes_and_tells_the_owner(rt: Runtime, agent_key: str) -> None:
    decide_many(rt, agent_key, approved=50)
    assert autonomy.promote(rt, WORKFLOW, OWNER)[0]
    assert autonomy_watch.recheck_all(rt) == []
    set_writes(rt, written=40, reverted=5)
    demoted = autonomy_watch.recheck_all(rt)
    assert [d.workflow for d in demoted] == [WORKFLOW]
    assert "revert rate 11.1% >= 5.0%" in demoted[0].reason
    [notice] = notices(rt)
    assert notice["to"] == OWNER and "revert rate 11.1% >= 5.0%" in notice["text"]
    with rt.db.read() as session:
        last = session.exec(
            select(Event).where(col(Event.type) == "demoted").order_by(col(Event.id).desc())
        ).first()
    assert last is not None and last.actor == autonomy.ACTOR_EVIDENCE
    assert autonomy_watch.recheck_all(rt) == []  # not on autopilot any more


def test_spec_promote_thresholds_validated(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "promote:\n  min_wilson: 1.5\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:17: promote.min_wilson: ")
    path = write(tmp_path, VALID + "promote:\n  min_decisions: 20\n  max_revert_rate: 0.1\n")
    rules = load_spec_file(path).spec.promote
    assert (rules.min_decisions, rules.min_wilson, rules.max_revert_rate) == (20, 0.9, 0.1)


def test_the_service_rechecks_evidence_every_five_minutes_not_every_tick(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    rechecks: list[Runtime] = []
    monkeypatch.setattr(autonomy_watch, "recheck_all", rechecks.append)
    scheduled: list[tuple[Callable[[], object], int]] = []
    monkeypatch.setattr(
        service.ticker, "every", lambda job, minutes: scheduled.append((job, minutes))
    )
    monkeypatch.setattr(service.ticker, "start", lambda: None)
    service.start()
    service.tick()
    assert rechecks == []  # the tick runs up to 20 times a second under load
    [job] = [job for job, minutes in scheduled if minutes == EVIDENCE_CHECK_MINUTES == 5]
    job()
    assert rechecks == [service.rt]
