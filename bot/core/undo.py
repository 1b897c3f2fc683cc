"""Undo a written item (`/airlock revert`, `airlock revert`): who may, until when, and the request.

The Salesforce side runs on the outbox (bot/delivery/undo.py): this module only checks and queues.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.base.errors import Conflict, NotFound
from bot.base.spec_model import format_duration
from bot.core import lifecycle
from bot.core.decisions import NotPermitted
from bot.core.effects import REVERT
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Event, Item
from models.types import utcnow

UNDOABLE = frozenset({"written", "conflict"})  # something was written (a conflict: other fields)


def request_undo(
    rt: Runtime,
    item_id: str,
    user: str,
    reason: str | None,
    now: datetime | None = None,
    *,
    as_admin: bool = False,
) -> Item:
    """Queue the undo of `item_id` for `user`; raises naming why it is refused.

    The window runs from the write's audit event, stamped with wall-clock time: so is `now`.
    """
    with rt.db.write() as session:
        item = _undoable(rt, session, item_id, user, now or utcnow(), as_admin=as_admin)
        data = {"by": user, "reason": reason}
        lifecycle.update_item(
            session, item_id, actor=f"user:{user}", event="revert_requested", data=data
        )
        enqueue(
            session,
            kind=REVERT,
            dedupe_key=f"{item_id}:revert",
            payload=data,
            item_id=item_id,
            workflow_id=item.workflow_id,
            pausable=False,  # an undo must not wait for the stop button it may be fixing
        )
        return item


def _undoable(
    rt: Runtime, session: Session, item_id: str, user: str, now: datetime, *, as_admin: bool
) -> Item:
    """The item, if `user` may undo it now; raises naming why not."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} does not exist")
    spec = rt.spec(item.workflow_id).spec
    allowed = as_admin or user in rt.settings.admins or user in (item.decided_by, spec.owner)
    if not allowed:
        raise NotPermitted(
            f"only the person who confirmed {item_id}, the owner of `{item.workflow_id}` "
            "and admins can revert it"
        )
    if item.writeback_state not in UNDOABLE or not _wrote_fields(item):
        raise Conflict(
            f"item {item_id} has nothing written to revert (write-back: {item.writeback_state})",
            item_id=item_id,
        )
    written_at = _written_at(session, item_id)
    window = spec.writeback.undo_window
    if written_at is None or now - written_at > window:
        raise Conflict(
            f"item {item_id} was written more than {format_duration(window)} ago; "
            "the undo window is over",
            item_id=item_id,
        )
    return item


def _wrote_fields(item: Item) -> bool:
    results = (item.writeback or {}).get("results") or []
    return any(r.get("state") == "written" for r in results) or bool(
        (item.writeback or {}).get("task_id")
    )


def _written_at(session: Session, item_id: str) -> datetime | None:
    query = (
        select(Event.at)
        .where(
            col(Event.item_id) == item_id,
            col(Event.type).in_(["writeback_written", "writeback_conflict"]),
        )
        .order_by(col(Event.id).desc())
    )
    return session.exec(query.limit(1)).first()
