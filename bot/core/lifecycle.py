"""The only module that changes an item's status or a workflow's pause state.

Every change is a compare-and-set UPDATE and appends a hash-chained audit event (bot/core/chain.py)
in the same transaction, so the trail and the state can never disagree; the same transaction
moves the rollup counters (bot/core/rollups.py) the change affects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, case, or_, update
from sqlmodel import Session, SQLModel, col, select

from bot.base.db import Executor
from bot.base.errors import AlreadyDecided, Conflict, NotFound
from bot.base.levels import DECIDED_STATUSES, Status
from bot.core import rollups
from bot.core.chain import (
    BOUND_FIELDS,
    append_item_event,
    append_workflow_event,
    chain_hash,
    event_hash,
    event_row,
    insert_events,
    item_state,
    item_stream,
    new_item_id,
    workflow_stream,
)
from models import Item, Workflow
from models.types import utcnow

# The audit chain lived here first: callers still import its names from lifecycle.
__all__ = [
    "BOUND_FIELDS",
    "append_item_event",
    "append_workflow_event",
    "chain_hash",
    "event_hash",
    "item_state",
    "item_stream",
    "new_item_id",
    "workflow_stream",
]

ALLOWED: dict[Status, frozenset[Status]] = {
    # On release a held item is judged again under the current spec (bot/core/release.py).
    Status.HELD: frozenset(
        {Status.PENDING, Status.AUTO_ACCEPTED, Status.BLOCKED, Status.SHADOWED, Status.EXPIRED}
    ),
    Status.PENDING: frozenset({Status.APPROVED, Status.EDITED, Status.REJECTED, Status.EXPIRED}),
}
_ITEMS: Table = SQLModel.metadata.tables["item"]


def record_intake(
    session: Executor, values: dict[str, Any], events: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Insert a new item with its first events, chained in memory, and count it in the rollups.

    Intake stores one item per transaction, so its counters are added at once (one upsert).
    """
    stream, rows, prev = item_stream(values["id"]), [], None
    state = item_state(values)
    for seq, (type_, actor, data) in enumerate(events, start=1):
        row = event_row(
            stream, seq, prev, type_, actor, data, values["workflow_id"], values["id"], state
        )
        rows.append(row)
        prev = row["hash"]
    session.execute(_ITEMS.insert(), [values | {"audit_seq": len(rows), "audit_head": prev}])
    insert_events(session, rows, {values["id"]: values})
    rollups.apply(session, rollups.contributions(values))


def transition(
    session: Session,
    item_id: str,
    to: Status,
    *,
    actor: str,
    event: str | None = None,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Item:
    """Move an item to `to` if its current status allows it; the loser of a race gets 409."""
    sources = [s for s, targets in ALLOWED.items() if to in targets]
    before = rollups.read_facts(session, item_id)
    result = session.execute(
        update(_ITEMS)
        .where(_ITEMS.c.id == item_id, _ITEMS.c.status.in_([s.value for s in sources]))
        .values(status=to.value, **fields)
    )
    item = session.get(Item, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _lost_race(item, to)
    rollups.note(session, before, rollups.item_facts(item))
    append_item_event(session, item, event or to.value, actor, data)
    return item


def update_item(
    session: Session, item_id: str, *, actor: str, event: str, data: dict[str, Any], **fields: Any
) -> Item:
    """Change non-status fields (assignee, write-back state, cards) with an audit event."""
    item = update_item_if(session, item_id, {}, actor=actor, event=event, data=data, **fields)
    assert item is not None  # no condition, so the change always applies
    return item


def update_item_if(
    session: Session,
    item_id: str,
    only_if: dict[str, Any],
    *,
    actor: str,
    event: str,
    data: dict[str, Any],
    **fields: Any,
) -> Item | None:
    """Compare-and-set of non-status fields: None when `only_if` no longer holds."""
    if "status" in fields:
        raise ValueError("status changes go through transition()")
    conditions = [_ITEMS.c[name] == value for name, value in only_if.items()]
    counted = not rollups.MOVABLE.isdisjoint(fields)
    before = rollups.read_facts(session, item_id) if counted else None
    if fields:
        result = session.execute(
            update(_ITEMS).where(_ITEMS.c.id == item_id, *conditions).values(**fields)
        )
        if conditions and result.rowcount != 1:  # type: ignore[attr-defined]
            return None
    item = session.get(Item, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    if counted:
        rollups.note(session, before, rollups.item_facts(item))
    append_item_event(session, item, event, actor, data)
    return item


def _lost_race(item: Item, wanted: Status) -> Conflict:
    if item.status in {s.value for s in DECIDED_STATUSES} or item.status == Status.EXPIRED:
        who = item.decided_by or "the system"
        when = item.decided_at.strftime("%Y-%m-%d %H:%M UTC") if item.decided_at else "earlier"
        return AlreadyDecided(
            f"item {item.id} was already {item.status} by {who} at {when}",
            item_id=item.id,
            status=item.status,
            decided_by=item.decided_by,
        )
    return Conflict(
        f"item {item.id} is {item.status}; it cannot become {wanted.value}",
        item_id=item.id,
        status=item.status,
    )


def set_paused(
    session: Session, workflow_id: str, *, paused: bool, actor: str, reason: str | None = None
) -> bool:
    """Press or release the stop button; returns False when it was already in that state."""
    values: dict[str, Any] = {"paused": paused}
    if paused:
        values |= {"paused_reason": reason, "paused_by": actor, "paused_at": utcnow()}
    else:
        values |= {"resumed_at": utcnow()}
    result = session.execute(
        update(Workflow)
        .where(col(Workflow.id) == workflow_id, col(Workflow.paused) == (not paused))
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if session.get(Workflow, workflow_id) is None:
            raise NotFound(f"workflow {workflow_id!r} is not loaded")
        return False
    append_workflow_event(
        session, workflow_id, "paused" if paused else "resumed", actor, {"reason": reason}
    )
    return True


def awake_at(now: datetime) -> ColumnElement[bool]:
    """A condition on items: not snoozed at `now` (never snoozed, or the snooze has ended)."""
    return or_(_ITEMS.c.snoozed_until.is_(None), _ITEMS.c.snoozed_until <= now)


def restart_timers(session: Session, workflow_id: str, now: datetime) -> int:
    """On resume, clocks of items already in front of a reviewer restart from `now`.

    A snoozed item is left asleep: its snooze already moved its clocks to start when it wakes.

    The sweep looks at each at once (`next_due_at = now`) and sets its next step from there.
    """
    table = _ITEMS
    result = session.execute(
        update(table)
        .where(
            table.c.workflow_id == workflow_id,
            table.c.status == Status.PENDING.value,
            table.c.pending_since.is_not(None),
            awake_at(now),
        )
        .values(
            pending_since=now,
            escalated_at=case(
                (table.c.manager_card_ts.is_not(None), now), else_=table.c.escalated_at
            ),
            next_due_at=now,
        )
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        append_workflow_event(
            session,
            workflow_id,
            "timers_restarted",
            "system",
            {"items": count, "at": now.isoformat()},
        )
    return count


def held_items(session: Session, workflow_id: str) -> list[Item]:
    """Items held while the workflow was paused, oldest first (the release order)."""
    query = (
        select(Item)
        .where(col(Item.workflow_id) == workflow_id, col(Item.status) == Status.HELD.value)
        .order_by(col(Item.created_at), col(Item.id))
    )
    return list(session.exec(query))
