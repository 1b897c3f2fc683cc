"""Write-back results of a whole delivery recorded at once: the same item changes and chained
audit events as lifecycle.update_item, in four statements per batch instead of five per item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session, SQLModel

from bot.core import rollups
from bot.core.chain import BOUND_FIELDS, event_row, insert_events, item_state, item_stream
from models import Item
from models.types import utcnow

_ITEMS: Table = SQLModel.metadata.tables["item"]


@dataclass(frozen=True)
class ItemChange:
    """Non-status fields of one item to change, with the audit event that records it."""

    item: Item
    event: str
    data: dict[str, Any]
    fields: dict[str, Any]


def update_items(session: Session, changes: list[ItemChange], actor: str) -> None:
    """lifecycle.update_item for many items (each at most once) sharing the same field names."""
    if not changes:
        return
    ids = [c.item.id for c in changes]
    names = sorted(changes[0].fields)
    if len(set(ids)) != len(ids) or any(sorted(c.fields) != names for c in changes):
        raise ValueError("update_items takes each item once, all with the same fields")
    # The counters move with writeback_state: read the facts (and take the row locks) first.
    counted = not rollups.MOVABLE.isdisjoint(names)
    before = rollups.read_many_facts(session, ids) if counted else {}
    # Bumping audit_seq first takes each item's row lock (PostgreSQL), as append_item_event does.
    _bump(session, changes, names)
    found = session.execute(
        select(_ITEMS.c.id, _ITEMS.c.audit_seq, _ITEMS.c.audit_head, *_bound()).where(
            _ITEMS.c.id.in_(ids)
        )
    ).mappings()
    after = {row["id"]: row for row in found}
    rows = [_event(c, after[c.item.id], actor) for c in changes]
    insert_events(session, rows, after)
    for change in changes:
        old = before.get(change.item.id)
        if old is not None:
            moved = {k: v for k, v in change.fields.items() if k in rollups.FACT_COLUMNS}
            rollups.note(session, old, old | moved)
    head = (
        update(_ITEMS).where(_ITEMS.c.id == bindparam("b_id")).values(audit_head=bindparam("b_h"))
    )
    session.execute(head, [{"b_id": r["item_id"], "b_h": r["hash"]} for r in rows])
    for change, row in zip(changes, rows, strict=True):
        change.item.audit_seq, change.item.audit_head = row["seq"], row["hash"]


def _bump(session: Session, changes: list[ItemChange], names: list[str]) -> None:
    """Write the changed fields and move each item's audit_seq on by one."""
    bump = (
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("b_id"))
        .values(
            {n: bindparam(f"b_{n}") for n in names}
            | {"audit_seq": _ITEMS.c.audit_seq + 1, "updated_at": bindparam("b_at")}
        )
    )
    now = utcnow()
    session.execute(bump, [{"b_id": c.item.id, "b_at": now} | _prefixed(c.fields) for c in changes])


def _prefixed(fields: dict[str, Any]) -> dict[str, Any]:
    return {f"b_{name}": value for name, value in fields.items()}


def _bound() -> list[Any]:
    return [_ITEMS.c[name] for name in BOUND_FIELDS]


def _event(change: ItemChange, found: Any, actor: str) -> dict[str, Any]:
    """The item's next chained event, over its state as this batch left it."""
    item = change.item
    return event_row(
        item_stream(item.id),
        found["audit_seq"],
        found["audit_head"],
        change.event,
        actor,
        change.data,
        item.workflow_id,
        item.id,
        item_state(found),
    )
