"""Read models for people: my queue, my team's queue, workflow states and decision stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.runtime import Runtime
from models import Item, Workflow


@dataclass(frozen=True)
class WorkflowState:
    """One workflow as the Home tab and `/airlock status` show it."""

    id: str
    name: str
    owner: str
    level: str
    mode: str
    paused: bool
    paused_reason: str | None
    pending: int
    held: int


@dataclass(frozen=True)
class Stats:
    """Decision evidence for one workflow."""

    workflow: str
    received: int
    approved: int
    edited: int
    rejected: int
    expired: int
    pending: int
    median_decision: timedelta | None
    top_reasons: list[tuple[str, int]]

    @property
    def decided(self) -> int:
        """Items a human decided."""
        return self.approved + self.edited + self.rejected

    @property
    def acceptance_rate(self) -> float | None:
        """Approved or edited, over decided."""
        return (self.approved + self.edited) / self.decided if self.decided else None


def my_queue(rt: Runtime, user: str, limit: int = 15) -> list[Item]:
    """Pending items assigned to the user, oldest first."""
    query = select(Item).where(col(Item.status) == "pending", col(Item.assignee) == user)
    with rt.db.read() as session:
        return list(session.exec(query.order_by(col(Item.created_at)).limit(limit)))


def team_queue(rt: Runtime, manager: str, limit: int = 15) -> list[Item]:
    """Pending items of the manager's reports, oldest first."""
    query = select(Item).where(
        col(Item.status) == "pending", col(Item.manager) == manager, col(Item.assignee) != manager
    )
    with rt.db.read() as session:
        return list(session.exec(query.order_by(col(Item.created_at)).limit(limit)))


def workflow_states(rt: Runtime) -> list[WorkflowState]:
    """Every loaded workflow with its pause state and open counts."""
    with rt.db.read() as session:
        rows = {w.id: w for w in session.exec(select(Workflow))}
        counts = {
            (wid, status): n
            for wid, status, n in session.exec(
                select(Item.workflow_id, Item.status, func.count())
                .where(col(Item.status).in_(["pending", "held"]))
                .group_by(col(Item.workflow_id), col(Item.status))
            ).all()
        }
    states = []
    for wid, loaded in sorted(rt.specs.specs.items()):
        row = rows.get(wid)
        states.append(
            WorkflowState(
                wid,
                loaded.spec.name,
                loaded.spec.owner,
                loaded.spec.level.value,
                row.mode_override if row and row.mode_override else loaded.spec.mode.value,
                bool(row and row.paused),
                row.paused_reason if row else None,
                counts.get((wid, "pending"), 0),
                counts.get((wid, "held"), 0),
            )
        )
    return states


def stats(rt: Runtime, workflow_id: str) -> Stats:
    """Counts, acceptance, median time to decision and top reject reasons."""
    with rt.db.read() as session:
        items = list(session.exec(select(Item).where(col(Item.workflow_id) == workflow_id)))
    by = {
        s: sum(1 for i in items if i.status == s)
        for s in ("approved", "edited", "rejected", "expired", "pending")
    }
    waits = [
        i.decided_at - i.created_at
        for i in items
        if i.decided_at and i.status in ("approved", "edited", "rejected")
    ]
    reasons: dict[str, int] = {}
    for item in items:
        reason = (item.decision or {}).get("reason")
        if item.status == "rejected" and reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return Stats(
        workflow_id,
        len(items),
        by["approved"],
        by["edited"],
        by["rejected"],
        by["expired"],
        by["pending"],
        sorted(waits)[len(waits) // 2] if waits else None,
        top,
    )


def workflow_detail(rt: Runtime, session: Session, workflow_id: str) -> dict[str, Any]:
    """One workflow for the agent API: spec, mode, paused or active, and its metrics."""
    loaded = rt.spec(workflow_id)
    row = session.get(Workflow, workflow_id)
    counts = dict(
        session.exec(
            select(Item.status, func.count())
            .where(col(Item.workflow_id) == workflow_id)
            .group_by(col(Item.status))
        ).all()
    )
    decided = sum(counts.get(s, 0) for s in ("approved", "edited", "rejected"))
    accepted = counts.get("approved", 0) + counts.get("edited", 0)
    return {
        "id": workflow_id,
        "name": loaded.spec.name,
        "owner": loaded.spec.owner,
        "level": loaded.spec.level.value,
        "mode": row.mode_override if row and row.mode_override else loaded.spec.mode.value,
        "version": loaded.version,
        "state": "paused" if row and row.paused else "active",
        "paused": bool(row and row.paused),
        "paused_reason": row.paused_reason if row else None,
        "paused_by": row.paused_by if row else None,
        "metrics": {
            "items": counts,
            "decided": decided,
            "acceptance_rate": round(accepted / decided, 3) if decided else None,
        },
        "spec": loaded.spec.model_dump(mode="json"),
    }
