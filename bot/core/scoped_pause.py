"""Scoped stop buttons: hold every item of one agent, or of one Salesforce record.

Like a workflow's stop button, a scope holds new items (`held`, nothing lost) and stops the
clocks of pending ones; on resume the clocks restart and held items are released by
bot/core/release.py, judged again under the spec in force. The trail: each affected workflow's
chain gets `paused`/`resumed` with the scope in its data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, delete, func, update
from sqlmodel import Session, SQLModel, col, select

from bot.base.errors import InvalidInput
from bot.base.levels import Status
from bot.core import lifecycle
from bot.core.decisions import NotPermitted
from bot.core.release import release_held
from bot.core.rights import is_owner, refused
from bot.core.runtime import Runtime
from bot.core.scopes import AGENT, Scope, covers, due, held_by_scope
from models import AgentKey, Item, PauseScope, Workflow

_ITEMS: Table = SQLModel.metadata.tables["item"]


def affected(rt: Runtime, scope: Scope) -> list[str]:
    """The loaded workflows a scope reaches: those the agent's keys feed, or all for a record."""
    loaded = sorted(rt.specs.specs)
    if scope.kind != AGENT:
        return loaded
    with rt.db.read() as session:
        keys = session.exec(
            select(AgentKey).where(
                col(AgentKey.agent) == scope.target, col(AgentKey.revoked_at).is_(None)
            )
        ).all()
    if not keys:
        raise InvalidInput(f"no agent named {scope.target!r} has a key (see `airlock keys list`)")
    fed = {w for key in keys for w in key.workflows}
    return loaded if "*" in fed else [w for w in loaded if w in fed]


def _check_rights(rt: Runtime, scope: Scope, user: str, workflows: list[str], wanted: str) -> None:
    # An agent scope stops part of every workflow it feeds: only whoever could stop each of
    # them may. A record scope touches one account or opportunity: any workflow owner may.
    if user in rt.settings.admins:
        return
    if scope.kind == AGENT:
        allowed = bool(workflows) and all(is_owner(rt, w, user) for w in workflows)
        rule = f"only admins and the owners of every workflow {scope.target} feeds"
    else:
        allowed = any(is_owner(rt, w, user) for w in workflows)
        rule = "only admins and workflow owners"
    if not allowed:
        for workflow_id in workflows:
            refused(rt, workflow_id, user, wanted)
        raise NotPermitted(f"{rule} can {wanted} {scope.label}")


def pause(rt: Runtime, scope: Scope, user: str, reason: str | None, span: timedelta | None) -> bool:
    """Press a scoped stop button; False if it was already pressed (its `for` is then renewed)."""
    workflows = affected(rt, scope)
    _check_rights(rt, scope, user, workflows, "pause")
    now = rt.clock()
    until = now + span if span else None
    with rt.db.write() as session:
        row = session.get(PauseScope, (scope.kind, scope.target))
        if row is not None:
            row.until = until
            session.add(row)
            return False
        session.add(
            PauseScope(
                kind=scope.kind,
                target=scope.target,
                reason=reason,
                paused_by=f"user:{user}",
                paused_at=now,
                until=until,
            )
        )
        data = {"scope": scope.label, "reason": reason or "no reason given"}
        if until:
            data["until"] = until.isoformat()
        for workflow_id in workflows:
            lifecycle.append_workflow_event(session, workflow_id, "paused", f"user:{user}", data)
    return True


def resume(rt: Runtime, scope: Scope, user: str | None) -> int:
    """Release a scoped stop button (None: its `for` ran out); returns how many held items it
    frees. They are counted as the button is released: from then on the scheduler's tick may
    release some of them before this call does, so what this call releases itself is no count.

    Raises InvalidInput when the scope is not paused.
    """
    try:
        workflows = affected(rt, scope)
    except InvalidInput:
        if user is not None:
            raise
        workflows = sorted(rt.specs.specs)  # its keys were revoked since: tell every workflow
    if user is not None:
        _check_rights(rt, scope, user, workflows, "resume")
    actor = f"user:{user}" if user else "system"
    now = rt.clock()
    with rt.db.write() as session:
        gone = session.execute(
            delete(PauseScope).where(
                col(PauseScope.kind) == scope.kind, col(PauseScope.target) == scope.target
            )
        )
        if gone.rowcount != 1:  # type: ignore[attr-defined]
            raise InvalidInput(f"{scope.label} is not paused")
        _restart_timers(session, scope, now)
        freed = _freed(session, scope)
        data = {"scope": scope.label} | ({} if user else {"note": "its `for` ran out"})
        for workflow_id in workflows:
            lifecycle.append_workflow_event(session, workflow_id, "resumed", actor, data)
    release_held(rt, actor=actor)
    rt.kick()
    return freed


def _freed(session: Session, scope: Scope) -> int:
    """Held items this scope covered that nothing holds any more (no other scope, no paused
    workflow): read in the transaction that releases the scope."""
    still = select(Workflow.id).where(col(Workflow.paused))
    query = (
        select(func.count())
        .select_from(Item)
        .where(
            col(Item.status) == Status.HELD,
            covers(scope),
            ~held_by_scope(session),
            col(Item.workflow_id).not_in(still),
        )
    )
    return int(session.execute(query).scalar_one())


def _restart_timers(session: Session, scope: Scope, now: datetime) -> None:
    # As on a workflow's resume: the clocks of items waiting for a reviewer restart from now
    # (a snoozed one sleeps on; its clocks start when it wakes).
    session.execute(
        update(_ITEMS)
        .where(
            covers(scope),
            _ITEMS.c.status == Status.PENDING.value,
            _ITEMS.c.pending_since.is_not(None),
            lifecycle.awake_at(now),
        )
        .values(pending_since=now, next_due_at=now)
    )


def resume_due(rt: Runtime) -> list[Scope]:
    """Resume every scope whose `for` has run out (the scheduler's tick); returns them."""
    with rt.db.read() as session:
        ended = due(session, rt.clock())
    done = []
    for scope in ended:
        try:
            resume(rt, scope, None)
        except InvalidInput:
            continue  # resumed by someone (or another replica) meanwhile
        done.append(scope)
    return done


def pressed(rt: Runtime) -> list[PauseScope]:
    """Every pressed scope, oldest first (status and Home)."""
    with rt.db.read() as session:
        return list(session.exec(select(PauseScope).order_by(col(PauseScope.paused_at))))
