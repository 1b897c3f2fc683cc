"""Auto-pause: quality drops stop the workflow before it does damage at scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from bot.base.spec_model import AutoPause
from bot.core import lifecycle
from bot.core.autonomy import demote
from bot.core.effects import queue_pause_notice
from bot.core.runtime import Runtime
from models import Event, Item, Workflow

ACTOR = "system:auto-pause"


@dataclass(frozen=True)
class Trip:
    """Why a workflow was paused, with the numbers."""

    workflow: str
    reason: str


def measure(
    rt: Runtime, workflow_id: str, rules: AutoPause, since: datetime | None, now: datetime
) -> str | None:
    """The reason to pause, if a threshold is crossed; only evidence after `since` counts."""
    hour_ago = now - timedelta(hours=1)
    with rt.db.read() as session:
        decided = (
            select(Item.status)
            .where(
                col(Item.workflow_id) == workflow_id,
                col(Item.status).in_(["approved", "edited", "rejected"]),
                col(Item.decided_at) > (since or datetime.min.replace(tzinfo=now.tzinfo)),
            )
            .order_by(col(Item.decided_at).desc())
            .limit(rules.window)
        )
        recent = list(session.exec(decided))
        start = max(hour_ago, since or hour_ago)
        failures = _failures(session, workflow_id, start)
        blocked = _count(session, workflow_id, col(Item.status) == "blocked", start)
        reverts = (
            _revert_rate(session, workflow_id, rules, since) if rules.revert_rate_over else None
        )
    if rules.reject_rate_over and len(recent) >= rules.min_decisions:
        rate = recent.count("rejected") / len(recent)
        if rate > rules.reject_rate_over:
            return (
                f"{rate:.0%} of the last {len(recent)} decisions were rejections "
                f"(threshold {rules.reject_rate_over:.0%})"
            )
    if reverts is not None:
        return reverts
    if rules.writeback_failures and failures >= rules.writeback_failures:
        return f"{failures} Salesforce write-back failures in the last hour"
    if rules.check_failures and blocked >= rules.check_failures:
        return f"{blocked} items blocked by quality checks in the last hour"
    return None


def _revert_rate(
    session: Session, workflow_id: str, rules: AutoPause, since: datetime | None
) -> str | None:
    """The reason to pause when too many of the last written items were reverted."""
    query = (
        select(Item.writeback_state)
        .where(
            col(Item.workflow_id) == workflow_id,
            col(Item.writeback_state).in_(["written", "conflict", "reverted"]),
            col(Item.decided_at) > (since or datetime.min.replace(tzinfo=UTC)),
        )
        .order_by(col(Item.decided_at).desc())
        .limit(rules.window)
    )
    states = list(session.exec(query))
    if len(states) < rules.min_decisions or not rules.revert_rate_over:
        return None
    rate = states.count("reverted") / len(states)
    if rate <= rules.revert_rate_over:
        return None
    return (
        f"{rate:.0%} of the last {len(states)} written items were reverted "
        f"(threshold {rules.revert_rate_over:.0%})"
    )


def _count(
    session: Session, workflow_id: str, condition: ColumnElement[bool], since: datetime
) -> int:
    # Blocked at intake: counted by when it arrived, not by when the item was last touched.
    query = (
        select(func.count())
        .select_from(Item)
        .where(col(Item.workflow_id) == workflow_id, condition, col(Item.created_at) >= since)
    )
    return int(session.exec(query).one())


def _failures(session: Session, workflow_id: str, since: datetime) -> int:
    """Write-backs that failed since `since`, by when they failed (their audit event)."""
    query = select(func.count(func.distinct(col(Event.item_id)))).where(
        col(Event.workflow_id) == workflow_id,
        col(Event.type) == "writeback_failed",
        col(Event.at) >= since,
    )
    return int(session.exec(query).one())


def check_all(rt: Runtime, now: datetime | None = None) -> list[Trip]:
    """Pause every active workflow whose thresholds are crossed, and tell its owner."""
    now = now or rt.clock()
    with rt.db.read() as session:
        rows = {
            w.id: w for w in session.exec(select(Workflow).where(col(Workflow.paused).is_(False)))
        }
    trips = []
    for workflow_id, row in sorted(rows.items()):
        loaded = rt.specs.get(workflow_id)
        if loaded is None:
            continue
        reason = measure(rt, workflow_id, loaded.spec.auto_pause, row.resumed_at, now)
        said = _pause(rt, workflow_id, loaded.spec.owner, reason) if reason else None
        if said:
            trips.append(Trip(workflow_id, said))
    if trips:
        rt.kick()
    return trips


def _pause(rt: Runtime, workflow_id: str, owner: str, reason: str) -> str | None:
    """Pause and tell the owner; returns what was said, or None if it was already paused."""
    with rt.db.write() as session:
        if not lifecycle.set_paused(session, workflow_id, paused=True, actor=ACTOR, reason=reason):
            return None
        if demote(session, rt, workflow_id, reason):
            reason += "; autopilot revoked, items go to human review again"
        headline = f":rotating_light: Auto-paused `{workflow_id}`: {reason}"
        queue_pause_notice(session, workflow_id, owner, "auto_pause", headline)
    return reason
