"""The daily digest: each workflow owner hears what their agents did in the last day."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.core.effects import NOTIFY
from bot.core.lifecycle import workflow_stream
from bot.core.outbox import enqueue
from bot.core.runtime import Runtime
from models import Event, Item

DAY = timedelta(days=1)


def paused_time(events: list[Event], since: datetime, now: datetime) -> timedelta:
    """How long the workflow was paused within [since, now], from its pause/resume events."""
    total, paused_from = timedelta(), None
    for event in events:
        if event.data.get("scope"):
            continue  # an agent or record stop button: the workflow itself kept running
        if event.type == "paused" and paused_from is None:
            paused_from = max(event.at, since)
        elif event.type == "resumed" and paused_from is not None:
            total += max(timedelta(), event.at - paused_from)
            paused_from = None
    if paused_from is not None:
        total += now - paused_from
    return total


def workflow_digest(rt: Runtime, workflow_id: str, since: datetime, now: datetime) -> str:
    """One workflow's day: received, decided, accepted, edited, rejected, expired, failures."""
    with rt.db.read() as session:
        items = list(
            session.exec(
                select(Item).where(
                    col(Item.workflow_id) == workflow_id, col(Item.updated_at) >= since
                )
            )
        )
        events = list(
            session.exec(
                select(Event)
                .where(
                    col(Event.stream) == workflow_stream(workflow_id),
                    col(Event.type).in_(["paused", "resumed"]),
                )
                .order_by(col(Event.seq))
            )
        )
    received = sum(1 for i in items if i.created_at >= since)
    decided = [
        i
        for i in items
        if i.decided_at and i.decided_at >= since and i.status in ("approved", "edited", "rejected")
    ]
    count = Counter(i.status for i in decided)
    reasons = Counter(
        (i.decision or {}).get("reason", "?") for i in decided if i.status == "rejected"
    )
    top = ", ".join(f"{r.replace('_', ' ')} {n}" for r, n in reasons.most_common(3)) or "none"
    expired = sum(1 for i in items if i.status == "expired")
    failures = sum(1 for i in items if i.writeback_state == "failed")
    paused = paused_time(events, since, now)
    return (
        f"*{workflow_id}*: {received} received · {len(decided)} decided · "
        f"{count['approved'] + count['edited']} accepted ({count['edited']} edited) · "
        f"{count['rejected']} rejected (top reasons: {top}) · {expired} expired · "
        f"{failures} write-back failures · paused {paused.total_seconds() / 3600:.1f} h"
    )


def queue_digests(rt: Runtime, now: datetime | None = None) -> list[str]:
    """Enqueue today's digest for each owner; a second call (or replica) that day is a no-op."""
    now = now or rt.clock()
    owners: dict[str, list[str]] = {}
    for workflow_id, loaded in sorted(rt.specs.specs.items()):
        owners.setdefault(loaded.spec.owner, []).append(workflow_id)
    with rt.db.write() as session:
        for owner, workflows in owners.items():
            lines = [workflow_digest(rt, w, now - DAY, now) for w in workflows]
            text = ":newspaper: *Airlock daily digest* (last 24 h)\n" + "\n".join(lines)
            enqueue(
                session,
                kind=NOTIFY,
                dedupe_key=f"digest:{owner}:{now.date().isoformat()}",
                payload={"to": owner, "reason": "digest", "text": text},
                pausable=False,
            )
    rt.kick()
    return sorted(owners)
