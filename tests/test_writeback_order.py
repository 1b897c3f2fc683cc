"""Per-record order of write-backs: an older approval never overwrites a newer approved value,
and the value Airlock last wrote is the implicit `observed` of a change that gave none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from bot.core.effects import WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Item, Outbox
from models.types import utcnow
from tests.writeback_support import (
    approved,
    load,
    outcome,
    record,
    settle,
    update_body,
    write_row,
)

OPP = make_id("Opportunity", 1)  # seeded: StageName "Proposal/Price Quote"


def _stage(rt: Runtime, agent_key: str, value: str) -> str:
    """An approved StageName change that does not say what the agent observed."""
    return approved(rt, agent_key, update_body(OPP, [{"field": "StageName", "value": value}]))


def _stages_written(standin: SalesforceStandin) -> list[str]:
    return [w.fields["StageName"] for w in standin.applied_writes("Opportunity")]


def test_older_approval_retried_after_lock_never_overwrites_newer(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    older = _stage(rt, agent_key, "Negotiation/Review")
    newer = _stage(rt, agent_key, "Closed Won")
    standin.inject("lock", times=1, match="composite")  # the older one's PATCH: row locked
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Closed Won"
    assert _stages_written(standin) == ["Negotiation/Review", "Closed Won"]
    assert (load(rt, older).writeback_state, load(rt, newer).writeback_state) == (
        "written",
        "written",
    )


def test_later_write_waits_for_pending_earlier_one(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    older = _stage(rt, agent_key, "Negotiation/Review")
    with rt.db.write() as session:  # the older write is backing off after a failed attempt
        later = utcnow() + timedelta(hours=1)
        session.execute(update(Outbox).where(col(Outbox.item_id) == older).values(due_at=later))
    newer = _stage(rt, agent_key, "Closed Won")
    assert worker.run_once() == 1
    assert standin.applied_writes() == []
    assert "waiting for the earlier approved write of StageName" in outcome(rt, newer)["retry"]
    assert write_row(rt, newer).due_at >= utcnow() + timedelta(minutes=10)  # not a busy loop
    with rt.db.write() as session:
        session.execute(update(Outbox).values(due_at=utcnow()))
    settle(rt, worker)
    assert _stages_written(standin) == ["Negotiation/Review", "Closed Won"]


def test_requeued_older_approval_does_not_overwrite_newer(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    older = _stage(rt, agent_key, "Negotiation/Review")
    with rt.db.write() as session:  # it gave up (dead) before the newer approval came
        session.execute(update(Outbox).where(col(Outbox.item_id) == older).values(status="dead"))
    _stage(rt, agent_key, "Closed Won")
    settle(rt, worker)
    with rt.db.write() as session:  # a person requeues the old write
        requeue = update(Outbox).where(col(Outbox.item_id) == older, col(Outbox.kind) == WRITEBACK)
        session.execute(requeue.values(status="pending", due_at=utcnow()))
        session.execute(update(Item).where(col(Item.id) == older).values(writeback_state="queued"))
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Closed Won"
    assert _stages_written(standin) == ["Closed Won"]
    [result] = outcome(rt, older)["results"]
    assert result["state"] == "conflict" and "later approval" in result["message"]


def test_edit_after_airlock_write_is_a_conflict_for_blind_change(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    first = _stage(rt, agent_key, "Negotiation/Review")
    settle(rt, worker)
    standin.set_field("Opportunity", OPP, "StageName", "Closed Lost")  # a rep's own edit
    second = _stage(rt, agent_key, "Closed Won")
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Closed Lost"
    assert load(rt, second).writeback_state == "conflict"
    [result] = outcome(rt, second)["results"]
    assert (result["observed"], result["current"]) == ("Negotiation/Review", "Closed Lost")
    assert result["message"] == (
        f"changed in Salesforce since Airlock wrote it ({first}); not overwritten"
    )
