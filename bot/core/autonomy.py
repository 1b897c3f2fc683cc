"""Earned autonomy: autopilot only on evidence, and auto-pause takes it back."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from bot.base.errors import Conflict
from bot.base.levels import Mode
from bot.base.spec_model import WorkflowSpec
from bot.base.specs import LoadedSpec
from bot.core import lifecycle, lift
from bot.core.autonomy_evidence import Evidence, LiftSource, gather
from bot.core.decisions import NotPermitted
from bot.core.effects import queue_owner_notice
from bot.core.rights import is_owner, refused
from bot.core.runtime import Runtime
from models import Workflow

ACTOR_AUTO = "system:auto-pause"
ACTOR_EVIDENCE = "system:evidence"


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


def holdout_source(spec: WorkflowSpec) -> LiftSource | None:
    """Where the workflow's holdout lifts come from; None when its spec holds nothing out."""
    return lift.lifts if spec.outcome.holdout else None


def evidence(rt: Runtime, workflow_id: str, lifts: LiftSource | None = None) -> Evidence:
    """The evidence since the last demotion, judged by the spec's `promote` rules.

    `lifts` replaces the spec's own holdout as the source of outcome lifts (tests).
    """
    spec = rt.spec(workflow_id).spec
    with rt.db.read() as session:
        return gather(session, workflow_id, spec.promote, lifts or holdout_source(spec))


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


def promote(
    rt: Runtime, workflow_id: str, user: str, lifts: LiftSource | None = None
) -> tuple[bool, Evidence]:
    """Grant autopilot if the evidence holds (owner or admin); answer with the numbers.

    `lifts` reads the outcome holdout's lifts (None: the spec's own holdout, if it has one).
    The grant is bound to the spec version loaded now: a changed spec revokes it on load.
    """
    loaded = rt.spec(workflow_id)
    _may_promote(rt, loaded, user)
    found = evidence(rt, workflow_id, lifts)
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
                "written": found.written,
                "reverted": found.reverted,
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
    reason = f"demoted by <@{user}>"
    with rt.db.write() as session:
        if not demote(session, rt, workflow_id, reason, actor=f"user:{user}"):
            return False
        if user != spec.owner:
            text = f":arrow_down: `{workflow_id}` is back on human review: {reason}."
            queue_owner_notice(session, workflow_id, spec.owner, "demoted", text)
    return True


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
