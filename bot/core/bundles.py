"""Bundles: many items for one reviewer from one workflow, reviewed in one Slack message.

A workflow opts in with `review: {bundle_after: N, bundle_window: 10m}`. When an item is due to
be posted to reviewer R, the card route first assigns every item of its batch (so items waiting
to be posted are known to be R's), then asks `bundle_for` inside one write transaction. The item
is bundled when more than N pending items of (workflow, R, gate) are either assigned and not
yet posted, or were posted within the window. It then joins the newest bundle of that key
opened within the window that still has room (`ROWS_PER_MESSAGE`), or opens a new one.

Why this is race-free: placement reads counts, then writes, so two transactions placing items
of the same (workflow, reviewer, gate) must not interleave, or both join a bundle on the same
count and it outgrows one message. SQLite's writer lock (BEGIN IMMEDIATE) already serialises
every write transaction; on PostgreSQL, whose READ COMMITTED lets both read before either
writes, the placement first takes a transaction-scoped advisory lock on the key
(https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS), so the next
placement reads the rows the last one committed. The placement is also a compare-and-set
(`bundle_id` is written only while it is still empty), so a retried outbox row never moves an
item between bundles.

The gate is part of the key: a manager-gated item goes to the manager (bot.salesforce.directory)
and is never a row of the rep's bundle, whatever the counts say.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, text
from sqlmodel import Session, col, select

from bot.base.errors import AirlockError
from bot.base.levels import Status
from bot.base.spec_model import Review
from bot.core import decisions, lifecycle
from bot.core.runtime import Runtime
from models import Item

# Two blocks a row (the row, its buttons) plus header, intro, Approve all and footer stay under
# Slack's 50 blocks; 18 rows of at most ROW_TEXT characters stay under its ~12,000 characters.
ROWS_PER_MESSAGE = 18
VIA = "bundle"  # the `via` of a decision taken from a bundle message, in its audit event


def _same_queue(item: Item) -> ColumnElement[bool]:
    """Items of the same workflow, reviewer and gate: the rows one bundle may hold."""
    return and_(
        col(Item.workflow_id) == item.workflow_id,
        col(Item.assignee) == item.assignee,
        col(Item.gate) == item.gate,
    )


def bundle_for(session: Session, item: Item, review: Review, now: datetime) -> str | None:
    """The bundle this item joins (placing it there), or None: it gets its own card."""
    if review.bundle_after is None or item.assignee is None or item.card_ts:
        return item.bundle_id
    if item.status != Status.PENDING.value:
        return None
    _serialise(session, item)
    since = now - review.bundle_window
    same = _same_queue(item)
    pending = col(Item.status) == Status.PENDING.value
    waiting = select(func.count()).where(same, pending, col(Item.card_ts).is_(None))
    recent = select(func.count()).where(
        same, pending, col(Item.card_ts).is_not(None), col(Item.pending_since) >= since
    )
    if session.exec(waiting).one() + session.exec(recent).one() <= review.bundle_after:
        return None
    bundle_id = _open_bundle(session, item, since) or f"bdl_{secrets.token_hex(8)}"
    placed = lifecycle.update_item_if(
        session,
        item.id,
        {"bundle_id": None},
        actor="system",
        event="bundled",
        data={"bundle": bundle_id, "to": item.assignee},
        bundle_id=bundle_id,
    )
    return bundle_id if placed is not None else _stored_bundle(session, item.id)


def _serialise(session: Session, item: Item) -> None:
    """Wait for any other placement on the item's key to commit (held until this one ends)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: this transaction already holds the only write lock
    key = f"bundle:{item.workflow_id}:{item.assignee}:{item.gate}"
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def _open_bundle(session: Session, item: Item, since: datetime) -> str | None:
    """The newest bundle of the item's key opened within the window with a free row."""
    query = (
        select(col(Item.bundle_id))
        .where(_same_queue(item), col(Item.bundle_id).is_not(None))
        .group_by(col(Item.bundle_id))
        .having(func.count() < ROWS_PER_MESSAGE)
        # rows placed but not posted yet have no pending_since: a bundle being built is open
        .having(
            or_(
                func.min(col(Item.pending_since)).is_(None),
                func.min(col(Item.pending_since)) >= since,
            )
        )
        .order_by(func.max(col(Item.created_at)).desc(), col(Item.bundle_id))
        .limit(1)
    )
    return session.exec(query).first()


def _stored_bundle(session: Session, item_id: str) -> str | None:
    found = session.get(Item, item_id, populate_existing=True)
    return found.bundle_id if found is not None else None


def rows(session: Session, bundle_id: str) -> list[Item]:
    """The bundle's items in the order they joined it (their rows, top to bottom)."""
    query = (
        select(Item)
        .where(col(Item.bundle_id) == bundle_id)
        .order_by(col(Item.created_at), col(Item.id))
    )
    return list(session.exec(query))


@dataclass
class ApproveAll:
    """What Approve all did: each row decided on its own, or left as it was and why."""

    approved: list[str] = field(default_factory=list)
    left: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the person who pressed it."""
        text = f"Approved {len(self.approved)} item(s) from the bundle."
        if self.left:
            text += f" {len(self.left)} left as they were: " + "; ".join(
                f"`{item_id}` {why}" for item_id, why in sorted(self.left.items())
            )
        return text


def approve_all(rt: Runtime, bundle_id: str, user: str) -> ApproveAll:
    """Approve every still-pending row this person may decide, each with its own compare-and-set.

    A row someone else decided first, or that this person has no right to decide, stays as it
    is; each approval is its own transaction, audit event (`via: bundle`) and write-back.
    """
    with rt.db.read() as session:
        items = rows(session, bundle_id)
    result = ApproveAll()
    for item in items:
        if item.status != Status.PENDING.value:
            result.left[item.id] = f"was already {item.status}"
        elif not decisions.may_decide(item, user, rt.settings.admins):
            result.left[item.id] = "is not yours to decide"
        else:
            try:
                decisions.approve(rt, item.id, user, via=VIA)
                result.approved.append(item.id)
            except AirlockError as exc:  # decided by someone else a moment ago
                result.left[item.id] = exc.detail
    return result
