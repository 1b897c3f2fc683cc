"""What an agent key may read: its items, its workflows, a long-poll and recent verdicts.

The HTTP API and the MCP server both answer through these functions, so a key sees the same
things, refused the same way, whichever way it comes in.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from anyio import to_thread
from sqlmodel import col, select

from bot.base.errors import Forbidden, NotFound
from bot.base.levels import Status
from bot.core import keys
from bot.core.intake import IntakeResult, submit
from bot.core.runtime import Runtime
from bot.core.trace import item_view
from bot.core.waiting import item_state, wait_for_change
from bot.reporting.queries import workflow_detail
from models import Item

# Verdicts a human (or the clock) gave: what an agent learns from.
_VERDICTS = (Status.APPROVED, Status.EDITED, Status.REJECTED, Status.EXPIRED)
MAX_FEEDBACK = 100


def agent_of(rt: Runtime, token: str | None) -> keys.Agent:
    """The active agent behind a bearer token, or Unauthorized."""
    with rt.db.read() as session:
        return keys.authenticate(session, token)


def intake_for(
    rt: Runtime,
    token: str | None,
    raw: bytes,
    header_key: str | None = None,
    traceparent: str | None = None,
) -> IntakeResult:
    """Submit one agent output and count it; answers at once, never waits for a human."""
    result = submit(rt, token=token, raw=raw, header_key=header_key, traceparent=traceparent)
    if not result.replayed:
        body = result.body
        rt.metrics.items.labels(body["workflow"], body["status"], body["gate"]).inc()
    return result


def item_for(rt: Runtime, token: str | None, item_id: str) -> dict[str, Any]:
    """The item's full view, if the key may see it; the same 404 as a missing item otherwise."""
    with rt.db.read() as session:
        key = keys.authenticate(session, token)
        view = item_view(session, item_id)
    if not keys.in_scope(key, view["workflow"]):
        # The same answer as a missing item: a key must not learn what exists outside it.
        raise NotFound(f"item {item_id!r} does not exist: check the id returned at intake")
    return view


async def wait_item(rt: Runtime, token: str | None, item_id: str, seconds: float) -> dict[str, Any]:
    """The item's view once its status or write-back state changes, or after `seconds`."""
    key = await to_thread.run_sync(agent_of, rt, token)
    with rt.waits.slot(key.key_id):
        view = await to_thread.run_sync(item_for, rt, token, item_id)
        seen = (view["status"], view["writeback_state"])
        moved = await wait_for_change(partial(item_state, rt.db, item_id), seen, seconds)
        if moved == seen:
            return view
        return await to_thread.run_sync(item_for, rt, token, item_id)


def workflows_for(rt: Runtime, token: str | None) -> list[dict[str, Any]]:
    """Every loaded workflow the key may submit to, with its spec, state and counts."""
    with rt.db.read() as session:
        key = keys.authenticate(session, token)
        visible = [w for w in rt.specs.specs if keys.in_scope(key, w)]
        return [workflow_detail(rt, session, w) for w in visible]


def feedback_for(
    rt: Runtime, token: str | None, *, workflow: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The latest verdicts on the key's workflows, newest first, with reasons and edits."""
    with rt.db.read() as session:
        key = keys.authenticate(session, token)
        query = select(Item).where(col(Item.status).in_([s.value for s in _VERDICTS]))
        if workflow is not None:
            rt.spec(workflow)
            if not keys.in_scope(key, workflow):
                raise Forbidden(f"agent key {key.key_id} is not scoped to workflow {workflow!r}")
            query = query.where(col(Item.workflow_id) == workflow)
        elif "*" not in key.workflows:
            query = query.where(col(Item.workflow_id).in_(key.workflows))
        rows = session.exec(
            query.order_by(col(Item.updated_at).desc(), col(Item.id)).limit(
                max(1, min(limit, MAX_FEEDBACK))
            )
        ).all()
    return [_verdict(item) for item in rows]


def _verdict(item: Item) -> dict[str, Any]:
    decision = item.decision or {}
    return {
        "id": item.id,
        "workflow": item.workflow_id,
        "kind": item.kind,
        "title": item.title,
        "status": item.status,
        "decided_by": item.decided_by,
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
        "reason": decision.get("reason"),
        "reason_text": decision.get("text") or None,
        "edits": decision.get("edits"),
        "writeback_state": item.writeback_state,
    }
