"""Not now: a reviewer snoozes a pending item; its clock stops and it comes back when due.

Snoozing moves every timer of the item (reminder, escalation, expiry) later by the time the
snooze adds, so what was left of each is left after it: the expiry deadline moves too, and
nothing fires while the item sleeps. When the snooze ends, the sweep (bot/delivery/timers.py)
DMs the reviewer and the timers run on. Snoozing again replaces the end (a shorter snooze
gives back the time the longer one added). An item is snoozed at most MAX_SNOOZES times: past
that the reviewer decides it or it escalates as due, so snoozing cannot keep an item from the
manager forever.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.base.errors import Conflict, InvalidInput
from bot.base.levels import Status
from bot.base.quiet import zone
from bot.core import lifecycle
from bot.core.chain import item_stream
from bot.core.decisions import authorize
from bot.core.effects import CARD
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Event, Item

MORNING = time(9)  # "tomorrow morning" and "next week" start at 09:00 in the reviewer's zone
MAX_SNOOZES = 3


class Snooze(StrEnum):
    """The choices on a card's Snooze menu."""

    HOUR = "1h"
    TOMORROW = "tomorrow"
    NEXT_WEEK = "next_week"


SNOOZE_LABELS = {
    Snooze.HOUR: "1 hour",
    Snooze.TOMORROW: "Tomorrow morning",
    Snooze.NEXT_WEEK: "Next week",
}


def snooze_end(choice: Snooze, now: datetime, tz: str) -> datetime:
    """When a snooze chosen at `now` ends (UTC); mornings are 09:00 in zone `tz`."""
    if choice is Snooze.HOUR:
        return now + timedelta(hours=1)
    local = now.astimezone(zone(tz))
    days = 1 if choice is Snooze.TOMORROW else 7 - local.weekday()  # next Monday
    morning = datetime.combine(local.date() + timedelta(days=days), MORNING, local.tzinfo)
    # combine() keeps the zone, so daylight-saving changes land on 09:00 local all the same
    return morning.astimezone(UTC)


def parse_choice(value: str) -> Snooze:
    """A choice by its value, or InvalidInput naming the allowed ones."""
    try:
        return Snooze(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Snooze)
        raise InvalidInput(f"unknown snooze {value!r}: choose one of {allowed}") from None


def snooze(rt: Runtime, item_id: str, user: str, choice: Snooze, tz: str) -> Item:
    """Snooze a pending item for `user`, who must be allowed to decide it."""
    item = authorize(rt, item_id, user, "snoozed")
    if item.status != Status.PENDING.value:
        raise Conflict(f"item {item_id} is {item.status}: only a pending item can be snoozed")
    now = rt.clock()
    until = snooze_end(choice, now, tz)
    shift = until - max(now, item.snoozed_until or now)
    moved = {
        name: getattr(item, name) + shift
        for name in ("pending_since", "escalated_at")
        if getattr(item, name) is not None
    }
    data = {"until": until.isoformat(), "by": user, "choice": choice.value, "tz": tz}
    with rt.db.write() as session:
        _refuse_past_the_limit(session, item)
        done = lifecycle.update_item_if(
            session,
            item_id,
            {"status": Status.PENDING.value},
            actor=f"user:{user}",
            event="snoozed",
            data=data | {"timers_moved_seconds": int(shift.total_seconds())},
            snoozed_until=until,
            next_due_at=until,
            **moved,
        )
        if done is None:
            raise Conflict(f"item {item_id} was decided meanwhile: it cannot be snoozed")
        enqueue(
            session,
            kind=CARD,
            dedupe_key=f"{item_id}:card:snoozed:{until.isoformat()}",
            item_id=item_id,
            workflow_id=item.workflow_id,
            payload={"update": True},
        )
    rt.kick()
    return done


def snooze_limit_reached(rt: Runtime, item: Item) -> bool:
    """Whether a pending item was snoozed MAX_SNOOZES times already (its card leaves out the
    menu, whose every choice would be refused)."""
    if item.status != Status.PENDING.value:
        return False
    with rt.db.read() as session:
        return snooze_count(session, item.id) >= MAX_SNOOZES


def snooze_count(session: Session, item_id: str) -> int:
    """How often the item was snoozed (its trail's `snoozed` events)."""
    query = select(func.count()).where(
        col(Event.stream) == item_stream(item_id), col(Event.type) == "snoozed"
    )
    return int(session.exec(query).one())


def _refuse_past_the_limit(session: Session, item: Item) -> None:
    """Conflict when the item was snoozed MAX_SNOOZES times already (read from its trail).

    Counted in the snooze's own transaction under the item's row lock (on SQLite, the single
    writer): two snoozes at once cannot both see two earlier ones and make a fourth."""
    session.exec(select(Item.id).where(col(Item.id) == item.id).with_for_update()).first()
    count = snooze_count(session, item.id)
    if count >= MAX_SNOOZES:
        raise Conflict(
            f"item {item.id} was snoozed {count} times already: decide it now, or it escalates "
            "when due"
        )
