"""The stop button: pause and resume workflows, and release held items in order."""

from __future__ import annotations

from sqlmodel import Session

from bot.base.mrkdwn import esc
from bot.core import lifecycle
from bot.core.decisions import NotPermitted
from bot.core.effects import queue_pause_notice
from bot.core.release import BATCH, release_held
from bot.core.rights import is_owner, is_reviewer, refused
from bot.core.runtime import Runtime

__all__ = ["is_owner", "is_reviewer", "pause", "pause_all", "resume"]


def pause(rt: Runtime, workflow_id: str, user: str, reason: str | None) -> bool:
    """Press the stop button (owner, admins, reviewers); False if it was already paused."""
    rt.spec(workflow_id)
    if not (is_owner(rt, workflow_id, user) or is_reviewer(rt, workflow_id, user)):
        refused(rt, workflow_id, user, "pause")
        raise NotPermitted(f"only the owner, admins and reviewers of {workflow_id} can pause it")
    owner = rt.spec(workflow_id).spec.owner
    with rt.db.write() as session:
        paused = lifecycle.set_paused(
            session,
            workflow_id,
            paused=True,
            actor=f"user:{user}",
            reason=reason or "no reason given",
        )
        if paused and user != owner:
            _tell_owner_of_pause(session, workflow_id, owner, user, reason)
    return paused


def _tell_owner_of_pause(
    session: Session, workflow_id: str, owner: str, user: str, reason: str | None
) -> None:
    # The owner answers for the workflow: someone else pressing its stop button is news to them.
    headline = (
        f":octagonal_sign: <@{user}> paused `{workflow_id}`: {esc(reason or 'no reason given')}"
    )
    queue_pause_notice(session, workflow_id, owner, "paused", headline)


def pause_all(rt: Runtime, user: str, reason: str | None) -> list[str]:
    """Pause every workflow the user may pause; returns the ids newly paused."""
    mine = [w for w in sorted(rt.specs.specs) if is_owner(rt, w, user) or is_reviewer(rt, w, user)]
    if not mine:
        raise NotPermitted("you own and review no workflow, so there is nothing you can pause")
    return [w for w in mine if pause(rt, w, user, reason)]


def resume(rt: Runtime, workflow_id: str, user: str, *, release: int = BATCH) -> list[str]:
    """Release the stop button (owner, admins); returns the held items released at once.

    Timers of items already in front of a reviewer restart from now. Held items are judged again
    under the spec in force now and released oldest first; up to `release` here, the rest by the
    scheduler's tick or release_all (bot/core/release.py).
    """
    spec = rt.spec(workflow_id).spec
    if not is_owner(rt, workflow_id, user):
        refused(rt, workflow_id, user, "resume")
        raise NotPermitted(f"only the owner (<@{spec.owner}>) or an admin can resume {workflow_id}")
    with rt.db.write() as session:
        if lifecycle.set_paused(session, workflow_id, paused=False, actor=f"user:{user}"):
            lifecycle.restart_timers(session, workflow_id, rt.clock())
    actor = f"user:{user}"
    released = (
        release_held(rt, actor=actor, workflow_id=workflow_id, limit=release) if release else []
    )
    rt.kick()
    return released
