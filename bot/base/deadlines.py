"""When an item's reminder, escalation and expiry fall due: pure functions of the stored item.

Each step keeps its own schedule. Timers start when the reviewer could first see the card (its
`ts` stored: `pending_since`); after escalation, expiry counts from when the manager's card was
delivered (`escalated_at`), so a card backlog never expires an item its reviewer never saw.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.base.spec_model import Escalation

ORDER = ("remind", "escalate", "expire")


class TimedItem(Protocol):
    """The item fields the timers read."""

    pending_since: datetime | None
    reminded_at: datetime | None
    escalated: bool
    escalated_at: datetime | None
    manager: str | None
    manager_card_ts: str | None


def schedule(item: TimedItem, escalation: Escalation) -> dict[str, datetime]:
    """Each step still to come and when it is due; nothing before the card was delivered."""
    anchor = item.pending_since
    if anchor is None:
        return {}
    steps: dict[str, datetime] = {}
    if not item.escalated:
        if escalation.remind_after and item.reminded_at is None:
            steps["remind"] = anchor + escalation.remind_after
        if escalation.escalate_after:
            steps["escalate"] = anchor + escalation.escalate_after
    if escalation.expire_after:
        expire = anchor + escalation.expire_after
        if item.escalated and escalation.escalate_after:
            # The manager has not seen it yet: expiry waits for the card. With nobody above the
            # reviewer (no manager card is sent) it counts from the escalation.
            if item.escalated_at is None or (item.manager and item.manager_card_ts is None):
                return steps
            left = escalation.expire_after - escalation.escalate_after
            expire = max(expire, item.escalated_at + left)
        steps["expire"] = expire
    return steps


def due_step(item: TimedItem, escalation: Escalation, now: datetime) -> str | None:
    """The furthest step due at `now` (an overdue expiry makes an overdue reminder moot)."""
    due = [name for name, at in schedule(item, escalation).items() if at <= now]
    return max(due, key=ORDER.index, default=None)


def next_due(
    item: TimedItem, escalation: Escalation, *, skip: str | None = None
) -> datetime | None:
    """When the sweep should look at the item again (optionally ignoring one step)."""
    steps = [at for name, at in schedule(item, escalation).items() if name != skip]
    return min(steps, default=None)


def card_deadline(
    item: TimedItem, escalation: Escalation, now: datetime, *, late: bool
) -> datetime | None:
    """What a card shows: when it escalates, or (after escalation) when it expires.

    A card being posted now starts its clock now, so `now` stands in for an anchor not yet stored.
    """
    anchor = item.pending_since or now
    if not late:
        return anchor + escalation.escalate_after if escalation.escalate_after else None
    if not escalation.expire_after:
        return None
    expire = anchor + escalation.expire_after
    if escalation.escalate_after:
        seen = item.escalated_at if item.manager_card_ts and item.escalated_at else now
        expire = max(expire, seen + escalation.expire_after - escalation.escalate_after)
    return expire
