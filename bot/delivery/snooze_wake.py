"""The end of a snooze: the sweep tells the reviewer the item is back and its timers run on."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.base.deadlines import next_due
from bot.base.mrkdwn import esc
from bot.base.spec_model import Escalation
from bot.core import lifecycle
from bot.core.effects import CARD, NOTIFY
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Item


def still_snoozed(item: Item, now: datetime) -> bool:
    """Whether the item sleeps at `now` (no timer step may happen)."""
    return item.snoozed_until is not None and now < item.snoozed_until


def wake(rt: Runtime, item: Item, escalation: Escalation) -> bool:
    """End the snooze once (compare-and-set): DM whoever decides it now and refresh the card."""
    awake = item.model_copy(update={"snoozed_until": None})
    to = item.manager if item.escalated and item.manager else item.assignee
    stamp = item.snoozed_until.isoformat() if item.snoozed_until else ""
    with rt.db.write() as session:
        done = lifecycle.update_item_if(
            session,
            item.id,
            {"snoozed_until": item.snoozed_until},
            actor="system",
            event="snooze_ended",
            data={"to": to, "snoozed_until": stamp},
            snoozed_until=None,
            next_due_at=next_due(awake, escalation),
        )
        if done is None:
            return False
        common = {"item_id": item.id, "workflow_id": item.workflow_id}
        if to:
            _tell(session, item, to, stamp)
        enqueue(
            session,
            kind=CARD,
            dedupe_key=f"{item.id}:card:awake:{stamp}",
            payload={"update": True},
            **common,
        )
    return True


def _tell(session: Session, item: Item, to: str, stamp: str) -> None:
    text = (
        f":alarm_clock: Snooze over: *{esc(item.title)}* from `{item.workflow_id}` is "
        "waiting for your decision again (Approve, Edit or Reject on the card). "
        f"`{item.id}`"
    )
    enqueue(
        session,
        kind=NOTIFY,
        dedupe_key=f"{item.id}:snooze_over:{stamp}",
        item_id=item.id,
        workflow_id=item.workflow_id,
        payload={"to": to, "reason": "snooze_over", "text": text},
    )
