"""Earned autonomy: autopilot only on evidence, and auto-pause takes it back."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.base.errors import Conflict
from bot.base.levels import Mode
from bot.base.spec_model import WorkflowSpec
from bot.base.specs import LoadedSpec
from bot.core import lifecycle
from bot.core.decisions import NotPermitted
from bot.core.rights import is_owner, refused
from bot.core.runtime import Runtime
from models import Item, Workflow

MIN_DECISIONS = 50
ACTOR_AUTO = "system:auto-pause"
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


def governing_override(override: str | None, granted_for: str, loaded_version: str) -> str | None:
    """A promotion or demotion governs only the spec version it was made under."""
    return override if granted_for == loaded_version else None


def governing_spec(
    rt: Runtime, session: Session, workflow_id: str
) -> tuple[LoadedSpec, WorkflowSpec]:
    """The loaded spec and the spec that governs now (mode as promoted or demoted)."""
    loaded = rt.spec(workflow_id)
    row = session.get(Workflow, workflow_id, populate_existing=True)
    override = governing_override(row.mode_override, row.version, loaded.version) if row else None
    return loaded, effective_spec(loaded.spec, override)


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


def _may_promote(rt: Runtime, loaded: LoadedSpec, user: str) -> None:
    """Refuse a promotion by someone other than the owner or an admin, or of a shadow spec."""
    if not is_owner(rt, loaded.id, user):
        refused(rt, loaded.id, user, "promote")
        raise NotPermitted(f"only the owner or an admin can promote {loaded.id}")
    if loaded.spec.mode is Mode.SHADOW:
        # Shadow records only: autopilot is earned from human review, never skipped to from it.
        raise Conflict(
            f"{loaded.id} runs in shadow mode (its items are recorded, never reviewed): set "
            f"`mode: review` in {loaded.path.name} and let people review before promoting"
        )


def promote(rt: Runtime, workflow_id: str, user: str) -> tuple[bool, Evidence]:
    """Grant autopilot if the evidence holds (owner or admin); answer with the numbers.

    The grant is bound to the spec version loaded now: a changed spec revokes it on load.
    """
    loaded = rt.spec(workflow_id)
    _may_promote(rt, loaded, user)
    found = evidence(rt, workflow_id)
    if not found.holds:
        return False, found
    with rt.db.write() as session:
        granted = session.execute(
            update(Workflow)
            .where(col(Workflow.id) == workflow_id, col(Workflow.version) == loaded.version)
            .values(mode_override=Mode.AUTOPILOT.value)
        )
        if granted.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"the spec of {workflow_id} changed since this server loaded it "
                f"(version {loaded.version}); promote again once it runs the new spec"
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
                "version": loaded.version,
            },
        )
    return True, found


def demote_command(rt: Runtime, workflow_id: str, user: str) -> bool:
    """`/airlock demote`: owner or admin takes autopilot back; False if it was not on it."""
    spec = rt.spec(workflow_id).spec
    if not is_owner(rt, workflow_id, user):
        refused(rt, workflow_id, user, "demote")
        raise NotPermitted(f"only the owner (<@{spec.owner}>) or an admin can demote {workflow_id}")
    with rt.db.write() as session:
        return demote(session, rt, workflow_id, f"demoted by <@{user}>", actor=f"user:{user}")


def demote(
    session: Session, rt: Runtime, workflow_id: str, reason: str, *, actor: str = ACTOR_AUTO
) -> bool:
    """Back to human review (auto-pause and `/airlock demote`); False if not on autopilot."""
    _, spec = governing_spec(rt, session, workflow_id)
    if spec.mode is not Mode.AUTOPILOT:
        return False
    session.execute(
        update(Workflow)
        .where(col(Workflow.id) == workflow_id)
        .values(mode_override=Mode.REVIEW.value)
    )
    lifecycle.append_workflow_event(session, workflow_id, "demoted", actor, {"reason": reason})
    return True
