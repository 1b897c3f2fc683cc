"""The only module that changes an item's status or a workflow's pause state.

Every change is a compare-and-set UPDATE and appends a hash-chained audit event in the same
transaction, so the trail and the state can never disagree.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, case, update
from sqlmodel import Session, SQLModel, col, select

from bot.base import audit_key, eventlog
from bot.base.canonical import canonical_hash
from bot.base.db import Executor
from bot.base.errors import AlreadyDecided, Conflict, NotFound
from bot.base.levels import DECIDED_STATUSES, Status
from models import Event, Item, Workflow
from models.types import utcnow

ALLOWED: dict[Status, frozenset[Status]] = {
    # On release a held item is judged again under the current spec (bot/core/release.py).
    Status.HELD: frozenset(
        {Status.PENDING, Status.AUTO_ACCEPTED, Status.BLOCKED, Status.SHADOWED, Status.EXPIRED}
    ),
    Status.PENDING: frozenset({Status.APPROVED, Status.EDITED, Status.REJECTED, Status.EXPIRED}),
}
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_ITEMS: Table = SQLModel.metadata.tables["item"]
_EVENTS: Table = SQLModel.metadata.tables["event"]
_WORKFLOWS: Table = SQLModel.metadata.tables["workflow"]
# The item columns its audit chain vouches for: what the agent sent and what was decided and
# written. Each item event records their digests as they stood after it (see item_state).
BOUND_FIELDS = (
    "workflow_id",
    "raw_hash",
    "kind",
    "title",
    "summary",
    "record_sobject",
    "record_id",
    "changes",
    "task",
    "message",
    "status",
    "authority",
    "decided_by",
    "decision",
    "writeback_state",
)


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


def item_state(row: Mapping[str, Any] | RowMapping) -> dict[str, str]:
    """Short digests of an item row's bound fields, the same whether read from Python or SQL."""
    return {name: canonical_hash(row[name])[:16] for name in BOUND_FIELDS}


def chain_hash(row: Mapping[str, Any]) -> str:
    """The hash of an event's content, the item state it records, and its predecessor's hash."""
    content = {
        "stream": row["stream"],
        "seq": row["seq"],
        "type": row["type"],
        "actor": row["actor"],
        "at": row["at"].isoformat(),
        "data": row["data"],
        "prev": row["prev_hash"],
    }
    if row.get("state") is not None:  # events written before item states were recorded
        content["state"] = row["state"]
    return canonical_hash(content)


def event_hash(event: Event) -> str:
    """The hash a stored event should carry."""
    return chain_hash(event.model_dump())


def _event_row(
    stream: str,
    seq: int,
    prev: str | None,
    type_: str,
    actor: str,
    data: dict[str, Any],
    workflow_id: str,
    item_id: str | None,
    state: dict[str, str] | None = None,
) -> dict[str, Any]:
    row = {
        "stream": stream,
        "item_id": item_id,
        "workflow_id": workflow_id,
        "seq": seq,
        "type": type_,
        "actor": actor,
        "at": utcnow(),
        "data": data,
        "prev_hash": prev,
        "state": state,
    }
    row["hash"] = chain_hash(row)
    return row


def _insert_events(session: Executor, rows: list[dict[str, Any]]) -> None:
    audit_key.seal(session.info, rows)
    session.execute(_EVENTS.insert(), rows)
    eventlog.note(session.info, rows)


def record_intake(
    session: Executor, values: dict[str, Any], events: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Insert a new item with its first events, chained in memory: one INSERT each."""
    stream, rows, prev = item_stream(values["id"]), [], None
    state = item_state(values)
    for seq, (type_, actor, data) in enumerate(events, start=1):
        row = _event_row(
            stream, seq, prev, type_, actor, data, values["workflow_id"], values["id"], state
        )
        rows.append(row)
        prev = row["hash"]
    session.execute(_ITEMS.insert(), [values | {"audit_seq": len(rows), "audit_head": prev}])
    _insert_events(session, rows)


def append_item_event(
    session: Session, item: Item, type_: str, actor: str, data: dict[str, Any] | None = None
) -> None:
    """Append to an item's chain; the row lock taken here orders concurrent writers."""
    found = (
        session.execute(
            update(_ITEMS)
            .where(_ITEMS.c.id == item.id)
            .values(audit_seq=_ITEMS.c.audit_seq + 1, updated_at=utcnow())
            .returning(
                _ITEMS.c.audit_seq, _ITEMS.c.audit_head, *(_ITEMS.c[f] for f in BOUND_FIELDS)
            )
        )
        .one()
        ._mapping
    )
    seq, prev = found["audit_seq"], found["audit_head"]
    row = _event_row(
        item_stream(item.id),
        seq,
        prev,
        type_,
        actor,
        data or {},
        item.workflow_id,
        item.id,
        item_state(found),
    )
    _insert_events(session, [row])
    session.execute(update(_ITEMS).where(_ITEMS.c.id == item.id).values(audit_head=row["hash"]))
    item.audit_seq, item.audit_head = seq, row["hash"]


def append_workflow_event(
    session: Session, workflow_id: str, type_: str, actor: str, data: dict[str, Any] | None = None
) -> None:
    """Append to a workflow's own chain (pause, resume, spec loaded, refused submissions)."""
    table = _WORKFLOWS
    found = session.execute(
        update(table)
        .where(table.c.id == workflow_id)
        .values(audit_seq=table.c.audit_seq + 1)
        .returning(table.c.audit_seq, table.c.audit_head)
    ).one_or_none()
    if found is None:
        raise NotFound(f"workflow {workflow_id!r} is not loaded")
    row = _event_row(
        workflow_stream(workflow_id),
        found[0],
        found[1],
        type_,
        actor,
        data or {},
        workflow_id,
        None,
    )
    _insert_events(session, [row])
    session.execute(update(table).where(table.c.id == workflow_id).values(audit_head=row["hash"]))


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
        update(_ITEMS)
        .where(_ITEMS.c.id == item_id, _ITEMS.c.status.in_([s.value for s in sources]))
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
    if fields:
        result = session.execute(
            update(_ITEMS).where(_ITEMS.c.id == item_id, *conditions).values(**fields)
        )
        if conditions and result.rowcount != 1:  # type: ignore[attr-defined]
            return None
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


def restart_timers(session: Session, workflow_id: str, now: datetime) -> int:
    """On resume, clocks of items already in front of a reviewer restart from `now`.

    The sweep looks at each at once (`next_due_at = now`) and sets its next step from there.
    """
    table = _ITEMS
    result = session.execute(
        update(table)
        .where(
            table.c.workflow_id == workflow_id,
            table.c.status == Status.PENDING.value,
            table.c.pending_since.is_not(None),
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
