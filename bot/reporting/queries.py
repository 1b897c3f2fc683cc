"""Read models for people: my queue, my team's queue, workflow states and decision stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.runtime import Runtime
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


DECIDED = ("approved", "edited", "rejected")


def stats(rt: Runtime, workflow_id: str) -> Stats:
    """Counts, acceptance, median time to decision and top reject reasons, all in SQL.

    `/airlock stats` answers inside Slack's 3 s: nothing here loads items into Python, so the cost
    is a few indexed aggregates whatever the history (issue: 19.6 s at 100,000 items before).
    """
    mine = col(Item.workflow_id) == workflow_id
    with rt.db.read() as session:
        by: dict[str, int] = {
            status: int(n)
            for status, n in session.exec(
                select(Item.status, func.count()).where(mine).group_by(col(Item.status))
            )
        }
        median = _median_wait(session, rt.db.is_sqlite, mine)
        reason = col(Item.decision)["reason"].as_string()
        reasons = session.exec(
            select(reason, func.count())
            .where(mine, col(Item.status) == "rejected", reason.is_not(None))
            .group_by(reason)
            .order_by(func.count().desc(), reason)
            .limit(3)
        ).all()
    return Stats(
        workflow_id,
        sum(by.values()),
        by.get("approved", 0),
        by.get("edited", 0),
        by.get("rejected", 0),
        by.get("expired", 0),
        by.get("pending", 0),
        median,
        [(str(r), int(n)) for r, n in reasons],
    )


def _median_wait(session: Session, sqlite: bool, mine: Any) -> timedelta | None:
    """The middle (upper median) of decided_at - created_at over decided items."""
    decided, created = col(Item.decided_at), col(Item.created_at)
    seconds = (
        (func.julianday(decided) - func.julianday(created)) * 86400.0
        if sqlite
        else func.extract("epoch", decided - created)
    )
    where = (mine, col(Item.status).in_(DECIDED), decided.is_not(None))
    count = int(session.exec(select(func.count()).where(*where)).one())
    if not count:
        return None
    middle = session.exec(
        select(seconds).where(*where).order_by(seconds).offset(count // 2).limit(1)
    ).one()
    return timedelta(seconds=round(float(middle), 3))


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
