"""The stop button: pause and resume workflows, and release held items in order."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot import lifecycle
from bot.blocks import esc
from bot.decisions import NotPermitted
from bot.effects import NOTIFY, needs_writeback, queue_effects
from bot.levels import Gate, Status
from bot.outbox import enqueue
from bot.runtime import Runtime
from bot.timers import first_due
from models import Item, Workflow


def is_owner(rt: Runtime, workflow_id: str, user: str) -> bool:
    """The workflow's owner or an admin."""
    return user in rt.settings.admins or rt.spec(workflow_id).spec.owner == user


def is_reviewer(rt: Runtime, workflow_id: str, user: str) -> bool:
    """Someone who has been asked to review this workflow's items."""
    with rt.db.read() as session:
        query = select(Item.id).where(
            col(Item.workflow_id) == workflow_id,
            (col(Item.assignee) == user) | (col(Item.manager) == user),
        )
        return session.exec(query.limit(1)).first() is not None


def pause(rt: Runtime, workflow_id: str, user: str, reason: str | None) -> bool:
    """Press the stop button (owner, admins, reviewers); False if it was already paused."""
    rt.spec(workflow_id)
    if not (is_owner(rt, workflow_id, user) or is_reviewer(rt, workflow_id, user)):
        _refused(rt, workflow_id, user, "pause")
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
    stamp = session.get(Workflow, workflow_id)
    enqueue(
        session,
        kind=NOTIFY,
        workflow_id=workflow_id,
        pausable=False,
        dedupe_key=f"paused:{workflow_id}:{stamp.audit_seq if stamp else 0}",
        payload={
            "to": owner,
            "reason": "paused",
            "workflow": workflow_id,
            "text": f":octagonal_sign: <@{user}> paused `{workflow_id}`: "
            f"{esc(reason or 'no reason given')}. New items are held and queued writes wait; "
            "nothing is lost.",
        },
    )


def pause_all(rt: Runtime, user: str, reason: str | None) -> list[str]:
    """Pause every workflow the user may pause; returns the ids newly paused."""
    mine = [w for w in sorted(rt.specs.specs) if is_owner(rt, w, user) or is_reviewer(rt, w, user)]
    if not mine:
        raise NotPermitted("you own and review no workflow, so there is nothing you can pause")
    return [w for w in mine if pause(rt, w, user, reason)]


def resume(rt: Runtime, workflow_id: str, user: str) -> list[str]:
    """Release the stop button (owner, admins) and route held items oldest first."""
    spec = rt.spec(workflow_id).spec
    if not is_owner(rt, workflow_id, user):
        _refused(rt, workflow_id, user, "resume")
        raise NotPermitted(f"only the owner (<@{spec.owner}>) or an admin can resume {workflow_id}")
    who = f"user:{user}"
    released = []
    with rt.db.write() as session:
        lifecycle.set_paused(session, workflow_id, paused=False, actor=who)
        for held in lifecycle.held_items(session, workflow_id):
            target = Status.AUTO_ACCEPTED if held.gate == Gate.AUTO else Status.PENDING
            fields: dict[str, Any] = {}
            if needs_writeback(held, spec, target):
                fields["writeback_state"] = "queued"
            if target is Status.PENDING:
                now = rt.clock()
                fields |= {"pending_since": now, "next_due_at": first_due(spec.escalation, now)}
            item = lifecycle.transition(
                session,
                held.id,
                target,
                actor=who,
                event="released",
                data={"to": target.value},
                **fields,
            )
            queue_effects(session, item, spec)
            released.append(item.id)
    rt.kick()
    return released


def _refused(rt: Runtime, workflow_id: str, user: str, wanted: str) -> None:
    with rt.db.write() as session:
        lifecycle.append_workflow_event(session, workflow_id, f"{wanted}_refused", f"user:{user}")
