"""Releasing held items: each one judged again by the spec in force now, oldest first, in batches.

A held item was classified under the spec of its intake and with the workflow paused. The owner
may have tightened the spec during the pause (that is often why it was paused), so on release the
policy (allowlist, checks, gate, mode) runs again under the current spec and promotion state.
Release is bounded per call; the scheduler's tick releases what one call left (and any item an
intake stored as `held` while a resume was committing).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, Table, func
from sqlmodel import Session, SQLModel, select

from bot.base.levels import Gate, Level, Status
from bot.base.spec_model import WorkflowSpec
from bot.base.submission import Submission
from bot.core import lifecycle
from bot.core.autonomy import governing_spec
from bot.core.effects import needs_writeback, queue_effects
from bot.core.policy import OutputNotAllowed, Verdict, decide
from bot.core.runtime import Runtime
from bot.core.scopes import held_by_scope
from models import Item

BATCH = 100
_RETRY = 0.05  # seconds between looks at items another releaser holds
_ITEMS: Table = SQLModel.metadata.tables["item"]
_WORKFLOWS: Table = SQLModel.metadata.tables["workflow"]


def release_held(
    rt: Runtime, *, actor: str = "system", workflow_id: str | None = None, limit: int = BATCH
) -> list[str]:
    """Release up to `limit` held items of active workflows, oldest first; returns their ids."""
    active = select(_WORKFLOWS.c.id).where(_WORKFLOWS.c.paused.is_(False))
    if workflow_id is not None:
        active = active.where(_WORKFLOWS.c.id == workflow_id)
    with rt.db.read() as session:  # a cheap look first: most ticks have nothing to release
        if session.execute(_pick(session, active, 1)).first() is None:
            return []
    released: list[str] = []
    with rt.db.write() as session:
        if not rt.db.is_sqlite:
            # The active workflows stay active until this batch commits: a pause waits for it
            # (SQLite serialises write transactions anyway).
            session.execute(active.order_by(_WORKFLOWS.c.id).with_for_update(read=True))
        # The scoped stop buttons are read again in this transaction: one pressed since the
        # look above must hold its items.
        pick = _pick(session, active, limit)
        if not rt.db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True, of=_ITEMS)  # replicas: disjoint items
        for item_id in session.execute(pick).scalars():
            item = session.get(Item, item_id)
            if item is not None and rt.specs.get(item.workflow_id) is not None:
                released.append(_release_one(rt, session, item, actor).id)
    if released:
        rt.kick()
    return released


def _pick(session: Session, active: Select[Any], limit: int) -> Select[Any]:
    """Held items of active workflows that no agent or record stop button covers, oldest first."""
    return (
        select(_ITEMS.c.id)
        .where(
            _ITEMS.c.status == Status.HELD.value,
            _ITEMS.c.workflow_id.in_(active),
            ~held_by_scope(session),  # bot/core/scoped_pause.py
        )
        .order_by(_ITEMS.c.created_at, _ITEMS.c.id)
        .limit(limit)
    )


def release_all(
    rt: Runtime,
    workflow_id: str,
    *,
    actor: str,
    patience: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Release every held item of an active workflow, batch after batch; returns how many.

    Stops early if the workflow is paused again meanwhile. Items another releaser holds (the
    scheduler's tick, a replica: SKIP LOCKED passes them by) are waited for, up to `patience`
    seconds without progress, so "all released" is never said while some are still held.
    """
    count, idle = 0, 0.0
    while idle < patience:
        batch = release_held(rt, actor=actor, workflow_id=workflow_id)
        count, idle = count + len(batch), 0.0 if batch else idle + _RETRY
        if not batch and not _held_in_active(rt, workflow_id):
            break
        if not batch:
            sleep(_RETRY)
    return count


def _held_in_active(rt: Runtime, workflow_id: str) -> bool:
    with rt.db.read() as session:
        paused = session.execute(
            select(_WORKFLOWS.c.paused).where(_WORKFLOWS.c.id == workflow_id)
        ).scalar()
        return paused is False and held_count(session, workflow_id, unscoped=True) > 0


def _release_one(rt: Runtime, session: Session, held: Item, actor: str) -> Item:
    loaded, spec = governing_spec(rt, session, held.workflow_id)
    verdict = rejudge(held, spec)
    now = rt.clock()
    fields: dict[str, Any] = {
        "level": verdict.level.value,
        "gate": verdict.gate.value,
        "gate_reasons": verdict.gate_reasons,
        "checks": [c.as_dict() for c in verdict.checks],
        "workflow_version": loaded.version,
    }
    if verdict.status is Status.AUTO_ACCEPTED:
        fields |= {"decided_by": "policy:auto", "decided_at": now}
    if needs_writeback(held, spec, verdict.status):
        fields["writeback_state"] = "queued"
    item = lifecycle.transition(
        session,
        held.id,
        verdict.status,
        actor=actor,
        event="released",
        data={"to": verdict.status.value, "gate": verdict.gate.value, "version": loaded.version},
        **fields,
    )
    queue_effects(session, item, loaded.spec)
    return item


def rejudge(item: Item, spec: WorkflowSpec) -> Verdict:
    """The policy verdict for a held item's submission under `spec`, as if submitted now."""
    sub = Submission.model_validate(json.loads(item.raw))
    try:
        return decide(sub, spec, paused=False)
    except OutputNotAllowed as exc:
        # The spec no longer allows this output: it is blocked, never delivered or written.
        reasons = [f"no longer allowed by the current spec: {r}" for r in exc.reasons]
        level = Level(item.level)
        return Verdict(level, Gate.BLOCK, Status.BLOCKED, reasons, [])


def held_count(session: Session, workflow_id: str, *, unscoped: bool = False) -> int:
    """How many items still wait to be released (`unscoped`: not counting those an agent or
    record stop button keeps held)."""
    query = select(func.count()).where(
        _ITEMS.c.workflow_id == workflow_id, _ITEMS.c.status == Status.HELD.value
    )
    if unscoped:
        query = query.where(~held_by_scope(session))
    return int(session.execute(query).scalar_one())
