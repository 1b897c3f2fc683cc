"""The only module that changes an item's status or a workflow's pause state.

Every change is a compare-and-set UPDATE and appends a hash-chained audit event in the same
transaction, so the trail and the state can never disagree.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.canonical import canonical_hash
from bot.errors import AlreadyDecided, Conflict, NotFound
from bot.levels import DECIDED_STATUSES, Status
from models import Event, Item, Workflow
from models.types import utcnow

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.HELD: frozenset({Status.PENDING, Status.AUTO_ACCEPTED, Status.EXPIRED}),
    Status.PENDING: frozenset({Status.APPROVED, Status.EDITED, Status.REJECTED, Status.EXPIRED}),
}
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def new_item_id() -> str:
    """Time-ordered, unguessable, short enough to type in `/airlock trace`."""
    stamp = int(time.time() * 1000)
    head = "".join(_CROCKFORD[(stamp >> s) & 31] for s in range(45, -1, -5))
    return f"itm_{head}{secrets.token_hex(5)}"


def item_stream(item_id: str) -> str:
    """The audit stream name of an item."""
    return item_id


def workflow_stream(workflow_id: str) -> str:
    """The audit stream name of a workflow."""
    return f"workflow:{workflow_id}"


def event_hash(event: Event) -> str:
    """The hash of an event's content and its predecessor's hash."""
    return canonical_hash(
        {
            "stream": event.stream,
            "seq": event.seq,
            "type": event.type,
            "actor": event.actor,
            "at": event.at.isoformat(),
            "data": event.data,
            "prev": event.prev_hash,
        }
    )


def record_intake(session: Session, item: Item, *, actor: str, data: dict[str, Any]) -> Item:
    """Store a new item and its first events: what was received, and where it went."""
    session.add(item)
    session.flush()
    append_item_event(session, item, "received", actor, data)
    append_item_event(session, item, str(item.status), "system", {"gate": item.gate})
    return item


def append_item_event(
    session: Session, item: Item, type_: str, actor: str, data: dict[str, Any] | None = None
) -> Event:
    """Append to an item's chain; the row lock taken here orders concurrent writers."""
    row = session.execute(
        update(Item)
        .where(col(Item.id) == item.id)
        .values(audit_seq=Item.audit_seq + 1, updated_at=utcnow())
        .returning(col(Item.audit_seq), col(Item.audit_head))
    ).one()
    event = _chain(session, item_stream(item.id), row, type_, actor, data or {}, item.workflow_id)
    event.item_id = item.id
    session.execute(update(Item).where(col(Item.id) == item.id).values(audit_head=event.hash))
    item.audit_seq, item.audit_head = event.seq, event.hash
    return event


def append_workflow_event(
    session: Session, workflow_id: str, type_: str, actor: str, data: dict[str, Any] | None = None
) -> Event:
    """Append to a workflow's own chain (pause, resume, spec loaded, refused submissions)."""
    row = session.execute(
        update(Workflow)
        .where(col(Workflow.id) == workflow_id)
        .values(audit_seq=Workflow.audit_seq + 1)
        .returning(col(Workflow.audit_seq), col(Workflow.audit_head))
    ).one_or_none()
    if row is None:
        raise NotFound(f"workflow {workflow_id!r} is not loaded")
    event = _chain(
        session, workflow_stream(workflow_id), row, type_, actor, data or {}, workflow_id
    )
    session.execute(
        update(Workflow).where(col(Workflow.id) == workflow_id).values(audit_head=event.hash)
    )
    return event


def _chain(
    session: Session, stream: str, row: Any, type_: str, actor: str, data: dict[str, Any], wf: str
) -> Event:
    seq, prev = row[0], row[1]
    event = Event(
        stream=stream,
        workflow_id=wf,
        seq=seq,
        type=type_,
        actor=actor,
        data=data,
        prev_hash=prev,
        hash="",
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


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
    result = session.execute(
        update(Item)
        .where(col(Item.id) == item_id, col(Item.status).in_([s.value for s in sources]))
        .values(status=to.value, **fields)
    )
    item = session.get(Item, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _lost_race(item, to)
    append_item_event(session, item, event or to.value, actor, data)
    return item


def update_item(
    session: Session, item_id: str, *, actor: str, event: str, data: dict[str, Any], **fields: Any
) -> Item:
    """Change non-status fields (assignee, write-back state, ...) with an audit event."""
    if "status" in fields:
        raise ValueError("status changes go through transition()")
    if fields:
        session.execute(update(Item).where(col(Item.id) == item_id).values(**fields))
    item = session.get(Item, item_id, populate_existing=True)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
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


def held_items(session: Session, workflow_id: str) -> list[Item]:
    """Items held while the workflow was paused, oldest first (the release order)."""
    query = (
        select(Item)
        .where(col(Item.workflow_id) == workflow_id, col(Item.status) == Status.HELD.value)
        .order_by(col(Item.created_at), col(Item.id))
    )
    return list(session.exec(query))
