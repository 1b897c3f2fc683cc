"""Nothing waits forever: reminders, escalation to the manager, expiry.

Every replica sweeps; each due item is claimed in the database (its next_due_at pushed past a
lease), and each step is a compare-and-set, so a step happens once however many replicas run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, update
from sqlmodel import SQLModel, select

from bot.base.db import Database
from bot.base.deadlines import due_step, next_due
from bot.base.levels import Status
from bot.base.quiet import quiet_until
from bot.base.spec_model import Escalation
from bot.core import delegation, lifecycle
from bot.core.decisions import escalation_target
from bot.core.effects import CARD, NOTIFY, queue_effects
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from bot.core.scopes import held_by_scope
from bot.delivery.claims import claim_items
from bot.delivery.snooze_wake import still_snoozed, wake
from bot.slack.delivery import ReviewerSource
from models import Item

log = logging.getLogger(__name__)
_ITEMS: Table = SQLModel.metadata.tables["item"]
_WORKFLOWS: Table = SQLModel.metadata.tables["workflow"]
CLAIM_LEASE = timedelta(seconds=60)


@dataclass
class SweepReport:
    """What one sweep did, for logs, tests and the demo."""

    reminded: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    postponed: list[str] = field(default_factory=list)
    woken: list[str] = field(default_factory=list)


def first_due(escalation: Escalation, anchor: datetime) -> datetime | None:
    """When a card delivered at `anchor` has its first timer step due."""
    steps = [escalation.remind_after, escalation.escalate_after, escalation.expire_after]
    return min((anchor + s for s in steps if s), default=None)


def claim_due(db: Database, now: datetime, limit: int = 200) -> list[str]:
    """Atomically take due pending items: cost follows due items, not the backlog."""
    # A paused workflow's clocks stand still: its items are not reminded, escalated or expired.
    paused = select(_WORKFLOWS.c.id).where(_WORKFLOWS.c.paused.is_(True))
    with db.read() as session:
        scoped = held_by_scope(session)  # so do those of a paused agent or record
    due = (
        (_ITEMS.c.status == "pending")
        & (_ITEMS.c.next_due_at <= now)
        & _ITEMS.c.workflow_id.not_in(paused)
        & ~scoped
    )
    return claim_items(db, "next_due_at", due, now + CLAIM_LEASE, limit)


def sweep(rt: Runtime, people: ReviewerSource, now: datetime | None = None) -> SweepReport:
    """Advance every due item by one step."""
    now = now or rt.clock()
    report = SweepReport()
    for item_id in claim_due(rt.db, now):
        try:
            _advance(rt, people, item_id, now, report)
        except Exception:
            log.exception("timer step failed for %s; it is retried after the claim lease", item_id)
    return report


def _advance(
    rt: Runtime, people: ReviewerSource, item_id: str, now: datetime, report: SweepReport
) -> None:
    with rt.db.read() as session:
        item = session.get(Item, item_id)
    if item is None or item.status != Status.PENDING:
        return
    escalation = rt.spec(item.workflow_id).spec.escalation
    if still_snoozed(item, now):
        _reschedule(rt, item_id, item.snoozed_until)
        return
    if item.snoozed_until is not None:
        if wake(rt, item, escalation):
            report.woken.append(item_id)
        return
    step = due_step(item, escalation, now)
    if step is None:
        _reschedule(rt, item_id, next_due(item, escalation))
    elif step == "remind":
        _remind(rt, people, item, escalation, now, report)
    elif step == "escalate":
        _escalate(rt, item, escalation, now, report)
    else:
        _expire(rt, item, now, report)


def _reschedule(rt: Runtime, item_id: str, due: datetime | None) -> None:
    with rt.db.write() as session:
        session.execute(update(_ITEMS).where(_ITEMS.c.id == item_id).values(next_due_at=due))


def _remind(
    rt: Runtime,
    people: ReviewerSource,
    item: Item,
    escalation: Escalation,
    now: datetime,
    report: SweepReport,
) -> None:
    tz = people.timezone_of(item.assignee) if item.assignee else "UTC"
    if escalation.quiet_hours and (later := quiet_until(now, tz, escalation.quiet_hours)):
        # Only the reminder waits for the morning; escalation and expiry keep their own times.
        others = next_due(item, escalation, skip="remind")
        _reschedule(rt, item.id, min(later, others) if others else later)
        report.postponed.append(item.id)
        return
    after = item.model_copy(update={"reminded_at": now})
    with rt.db.write() as session:
        done = lifecycle.update_item_if(
            session,
            item.id,
            {"reminded_at": None},
            actor="system",
            event="reminded",
            data={"to": item.assignee},
            reminded_at=now,
            next_due_at=next_due(after, escalation),
        )
        if done and item.assignee:
            enqueue(
                session,
                kind=NOTIFY,
                dedupe_key=f"{item.id}:remind",
                item_id=item.id,
                workflow_id=item.workflow_id,
                payload={"to": item.assignee, "reason": "reminder"},
            )
    if done:
        report.reminded.append(item.id)


def _escalate(
    rt: Runtime, item: Item, escalation: Escalation, now: datetime, report: SweepReport
) -> None:
    manager, note = _above(rt, item)
    above = {"escalated": True, "escalated_at": now, "manager": manager or item.manager}
    after = item.model_copy(update=above)
    with rt.db.write() as session:
        done = lifecycle.update_item_if(
            session,
            item.id,
            {"escalated": False},
            actor="system",
            event="escalated",
            data={"to": manager, "from": item.assignee} | ({"note": note} if note else {}),
            escalated=True,
            escalated_at=now,
            manager=manager or item.manager,
            next_due_at=next_due(after, escalation),
        )
        if done and manager:
            common: dict[str, Any] = {"item_id": item.id, "workflow_id": item.workflow_id}
            enqueue(
                session,
                kind=CARD,
                dedupe_key=f"{item.id}:card:manager",
                payload={"manager": True},
                **common,
            )
            enqueue(
                session,
                kind=CARD,
                dedupe_key=f"{item.id}:card:escalated",
                payload={"update": True},
                **common,
            )
    if done:
        report.escalated.append(item.id)


def _above(rt: Runtime, item: Item) -> tuple[str | None, str | None]:
    """Who an escalation goes to, and a note for the trail when it is not the usual person."""
    manager, note = escalation_target(item, rt.spec(item.workflow_id).spec.owner)
    if manager:
        # A manager away (`/airlock delegate`): the escalation goes to their delegate.
        manager, away = delegation.redirect(rt, manager)
        note = f"<@{away}> delegated to <@{manager}>" if away else note
    return manager, note


def _expire(rt: Runtime, item: Item, now: datetime, report: SweepReport) -> None:
    spec = rt.spec(item.workflow_id).spec
    with rt.db.write() as session:
        expired = lifecycle.transition(
            session,
            item.id,
            Status.EXPIRED,
            actor="system",
            data={"ignored_by": item.assignee},
            next_due_at=None,
            decision={"verdict": "expired", "ignored_by": item.assignee},
        )
        queue_effects(session, expired, spec)
    report.expired.append(item.id)
