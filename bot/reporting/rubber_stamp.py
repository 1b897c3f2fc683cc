"""Rubber-stamp detection: reviewers who approve almost everything, almost at once."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.effects import queue_owner_notice
from bot.core.rollups import DECIDED
from bot.core.runtime import Runtime
from models import Item

LAST = 30  # decisions per reviewer looked at
FAST_SECONDS = 5.0  # a median under this from card to decision is instant
APPROVE_SHARE = 0.98  # and approving at least this share of them is a pattern


@dataclass(frozen=True)
class Reviewer:
    """One reviewer's last decisions in a workflow."""

    reviewer: str
    decisions: int
    approved: int
    median_seconds: float

    @property
    def approve_rate(self) -> float:
        """Approved (with or without edits) among the decisions."""
        return self.approved / self.decisions if self.decisions else 0.0

    @property
    def rubber_stamp(self) -> bool:
        """Enough decisions, nearly all approvals, taken in seconds."""
        return (
            self.decisions >= LAST
            and self.median_seconds < FAST_SECONDS
            and self.approve_rate >= APPROVE_SHARE
        )

    def __str__(self) -> str:
        return (
            f"approved {self.approved} of their last {self.decisions} decisions, "
            f"median {self.median_seconds:.1f} s from card to decision"
        )


def reviewers(session: Session, workflow_id: str) -> list[str]:
    """Everyone who decided an item of the workflow: one index seek per reviewer."""
    found: list[str] = []
    while True:
        query = select(func.min(Item.decided_by)).where(col(Item.workflow_id) == workflow_id)
        if found:
            query = query.where(col(Item.decided_by) > found[-1])
        else:
            query = query.where(col(Item.decided_by).is_not(None))
        following = session.exec(query).one()
        if following is None:
            return found
        found.append(following)


def reviewer_pattern(session: Session, workflow_id: str, reviewer: str) -> Reviewer:
    """The reviewer's last LAST decisions in the workflow, newest first along ix_item_reviewer."""
    query = (
        select(Item.status, Item.pending_since, Item.created_at, Item.decided_at)
        .where(col(Item.workflow_id) == workflow_id, col(Item.decided_by) == reviewer)
        .order_by(col(Item.decided_at).desc())
        .limit(LAST)
    )
    rows = [r for r in session.exec(query).all() if r[0] in DECIDED and r[3] is not None]
    waits = [_seconds(shown or created, decided) for _s, shown, created, decided in rows]
    approved = sum(1 for r in rows if r[0] != "rejected")
    return Reviewer(reviewer, len(rows), approved, statistics.median(waits) if waits else 0.0)


def _seconds(shown: datetime, decided: datetime) -> float:
    return max(0.0, (decided - shown).total_seconds())


def flagged(session: Session, workflow_id: str) -> list[Reviewer]:
    """The workflow's reviewers whose last decisions look like rubber-stamping."""
    found = [reviewer_pattern(session, workflow_id, r) for r in reviewers(session, workflow_id)]
    return [r for r in found if r.rubber_stamp]


def queue_weekly_notices(rt: Runtime) -> int:
    """Tell each owner about their rubber-stamping reviewers, at most once per ISO week each."""
    year, week, _ = rt.clock().isocalendar()
    told = 0
    for workflow_id in sorted(rt.specs.specs):
        owner = rt.spec(workflow_id).spec.owner
        with rt.db.write() as session:
            for found in flagged(session, workflow_id):
                text = (
                    f":eyes: Possible rubber-stamping in `{workflow_id}`: <@{found.reviewer}> "
                    f"{found}. Reviews this fast rarely read the item; consider a word, or a "
                    "second reviewer."
                )
                once = f"rubber_stamp:{workflow_id}:{found.reviewer}:{year}-W{week:02d}"
                queue_owner_notice(
                    session, workflow_id, owner, "rubber_stamp", text, dedupe_key=once
                )
                told += 1
    if told:
        rt.kick()
    return told
