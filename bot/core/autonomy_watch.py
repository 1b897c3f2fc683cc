"""Autopilot is kept on evidence: when it falls below the bar, autopilot is taken back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.base.levels import Mode
from bot.core.autonomy import ACTOR_EVIDENCE, demote, evidence
from bot.core.autonomy_evidence import LiftSource
from bot.core.effects import queue_owner_notice
from bot.core.runtime import Runtime
from models import Workflow


@dataclass(frozen=True)
class Demotion:
    """A workflow that lost autopilot, and why."""

    workflow: str
    reason: str


def recheck_all(rt: Runtime, lifts: LiftSource | None = None) -> list[Demotion]:
    """Demote every promoted workflow whose evidence no longer holds, and tell its owner why."""
    with rt.db.read() as session:
        query = select(Workflow.id, Workflow.version).where(
            col(Workflow.mode_override) == Mode.AUTOPILOT.value
        )
        promoted = sorted(session.exec(query).all())
    demoted = []
    for workflow_id, version in promoted:
        loaded = rt.specs.get(workflow_id)
        if loaded is None or loaded.version != version:
            continue  # a changed spec revokes the grant when it is loaded
        found = evidence(rt, workflow_id, lifts)
        if found.holds:
            continue
        reason = "the evidence fell below the bar: " + "; ".join(found.shortfalls())
        with rt.db.write() as session:
            if not demote(session, rt, workflow_id, reason, actor=ACTOR_EVIDENCE):
                continue
            text = (
                f":arrow_down: `{workflow_id}` is back on human review: {reason}. "
                f"Evidence now: {found}."
            )
            queue_owner_notice(session, workflow_id, loaded.spec.owner, "demoted", text)
        demoted.append(Demotion(workflow_id, reason))
    if demoted:
        rt.kick()
    return demoted
