"""Earned autonomy: autopilot only on evidence, and auto-pause takes it back."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot import lifecycle
from bot.control import is_owner
from bot.decisions import NotPermitted
from bot.levels import Mode
from bot.runtime import Runtime
from bot.spec_model import WorkflowSpec
from models import Item, Workflow

MIN_DECISIONS = 50
MIN_LOWER_BOUND = 0.9


def wilson_lower(successes: int, trials: int, z: float = 1.96) -> float:
    """Lower bound of the 95% Wilson score interval for a success rate."""
    if trials == 0:
        return 0.0
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - spread) / (1 + z * z / trials)


@dataclass(frozen=True)
class Evidence:
    """Decisions so far and how many were approved without a single edit."""

    decisions: int
    clean: int

    @property
    def lower_bound(self) -> float:
        """Wilson lower bound of approve-without-edit."""
        return wilson_lower(self.clean, self.decisions)

    @property
    def holds(self) -> bool:
        """Enough decisions, and reliably good ones."""
        return self.decisions >= MIN_DECISIONS and self.lower_bound >= MIN_LOWER_BOUND

    def __str__(self) -> str:
        return (
            f"{self.clean} of {self.decisions} decisions approved without edits; Wilson lower "
            f"bound {self.lower_bound:.2f} (needs >= {MIN_DECISIONS} decisions and >= "
            f"{MIN_LOWER_BOUND:.2f})"
        )


def effective_spec(spec: WorkflowSpec, override: str | None) -> WorkflowSpec:
    """The spec as it governs right now: a promotion or demotion replaces its mode."""
    return spec if not override else spec.model_copy(update={"mode": Mode(override)})


def evidence(rt: Runtime, workflow_id: str) -> Evidence:
    """Human decisions on this workflow's items."""
    with rt.db.read() as session:
        rows = dict(
            session.exec(
                select(Item.status, func.count())
                .where(
                    col(Item.workflow_id) == workflow_id,
                    col(Item.status).in_(["approved", "edited", "rejected"]),
                )
                .group_by(col(Item.status))
            ).all()
        )
    return Evidence(sum(rows.values()), rows.get("approved", 0))


def promote(rt: Runtime, workflow_id: str, user: str) -> tuple[bool, Evidence]:
    """Grant autopilot if the evidence holds (owner or admin); answer with the numbers."""
    rt.spec(workflow_id)
    if not is_owner(rt, workflow_id, user):
        raise NotPermitted(f"only the owner or an admin can promote {workflow_id}")
    found = evidence(rt, workflow_id)
    if not found.holds:
        return False, found
    with rt.db.write() as session:
        session.execute(
            update(Workflow)
            .where(col(Workflow.id) == workflow_id)
            .values(mode_override=Mode.AUTOPILOT.value)
        )
        lifecycle.append_workflow_event(
            session,
            workflow_id,
            "promoted",
            f"user:{user}",
            {
                "decisions": found.decisions,
                "clean": found.clean,
                "lower_bound": round(found.lower_bound, 4),
            },
        )
    return True, found


def demote(session: Session, workflow_id: str, spec: WorkflowSpec, reason: str) -> bool:
    """Back to human review (auto-pause does this); False if it was not on autopilot."""
    row = session.get(Workflow, workflow_id)
    if row is None or effective_spec(spec, row.mode_override).mode is not Mode.AUTOPILOT:
        return False
    session.execute(
        update(Workflow)
        .where(col(Workflow.id) == workflow_id)
        .values(mode_override=Mode.REVIEW.value)
    )
    lifecycle.append_workflow_event(
        session, workflow_id, "demoted", "system:auto-pause", {"reason": reason}
    )
    return True
