"""The hash-chained audit trail: one chain per item and per workflow, appended in the caller's
transaction so the trail and the state it describes commit together.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, Table, update
from sqlmodel import Session, SQLModel

from bot.base import audit_key, eventlog
from bot.base.canonical import canonical_hash
from bot.base.db import Executor
from bot.base.errors import NotFound
from bot.core import agent_events
from models import Event, Item
from models.types import utcnow

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


def field_digest(value: Any) -> str:
    """The short digest an event's `state` records for one bound field's value."""
    return canonical_hash(value)[:16]


def item_state(row: Mapping[str, Any] | RowMapping) -> dict[str, str]:
    """Short digests of an item row's bound fields, the same whether read from Python or SQL."""
    return {name: field_digest(row[name]) for name in BOUND_FIELDS}


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


def event_row(
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
    """One event of `stream`, hashed onto its predecessor `prev`."""
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


def insert_events(
    session: Executor,
    rows: list[dict[str, Any]],
    items: Mapping[str, Mapping[str, Any] | RowMapping] | None = None,
) -> None:
    """Store event rows (sealed with the audit key when set); each is logged once committed.

    `items` holds each item row as the events leave it, by id: the agent events published
    with them (bot.core.agent_events) report it.
    """
    audit_key.seal(session.info, rows)
    session.execute(_EVENTS.insert(), rows)
    eventlog.note(session.info, rows)
    agent_events.publish(session, rows, items or {})


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
    row = event_row(
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
    insert_events(session, [row], {item.id: found})
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
    row = event_row(
        workflow_stream(workflow_id),
        found[0],
        found[1],
        type_,
        actor,
        data or {},
        workflow_id,
        None,
    )
    insert_events(session, [row])
    session.execute(update(table).where(table.c.id == workflow_id).values(audit_head=row["hash"]))
