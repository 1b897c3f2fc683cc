"""Events published to agents, written in the transaction of the change they report.

Every audit event passes through bot.core.lifecycle; the few an agent acts on are published here
as `{type, timestamp, data}` rows of `agent_event` (read by the pull feed, GET /api/v1/events)
and, when the workflow names a `callback_url`, queued on the outbox as a signed webhook. New
types join by adding a rule below (`item.outcome`: an item's outcome was read at the end of its
window; `item.reverted`: a written item was undone or changed back).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Connection, RowMapping, Table, Text, cast, func, select
from sqlmodel import SQLModel

from bot.base.db import Executor
from bot.core.effects import WEBHOOK
from bot.core.outbox import enqueue

# Statuses that end an item's review: the agent learns the verdict.
# A held-out item's answer is final too: nothing will be posted or written for it.
_VERDICTS = frozenset({"approved", "edited", "rejected", "expired", "auto_accepted", "held_out"})
_WRITEBACK = {
    "writeback_written": "item.written",
    "writeback_conflict": "item.conflict",
    "writeback_failed": "item.failed",
    "writeback_reverted": "item.reverted",  # undone, or changed back in Salesforce by a person
}
_WORKFLOW = {
    "paused": "workflow.paused",
    "resumed": "workflow.resumed",
    "promoted": "workflow.autonomy_changed",
    "demoted": "workflow.autonomy_changed",
    "override_cleared": "workflow.autonomy_changed",
}
# The mode a workflow is left in by an autonomy change (a cleared override: the spec's own).
_MODES = {"promoted": "autopilot", "demoted": "review", "override_cleared": None}
_OUTCOME = {"outcome": "item.outcome"}
TYPES = (
    "item.decided",
    *_WRITEBACK.values(),
    *_OUTCOME.values(),
    *dict.fromkeys(_WORKFLOW.values()),
)
_AGENT_EVENTS: Table = SQLModel.metadata.tables["agent_event"]
_WORKFLOWS: Table = SQLModel.metadata.tables["workflow"]
# What of the item an agent is told (the shape of the former `airlock.decision` body).
_ITEM_FIELDS = (
    "status",
    "authority",
    "decided_by",
    "decision",
    "writeback_state",
    "changes",
    "segment",
)


def public_type(audit: Mapping[str, Any]) -> str | None:
    """The published type of an audit event row, or None when agents are not told of it."""
    kind, data = audit["type"], audit.get("data") or {}
    if audit["item_id"] is None:
        # An agent or record stop button leaves the workflow running: no workflow.paused.
        return None if data.get("scope") else _WORKFLOW.get(kind)
    if kind in _VERDICTS or (kind == "released" and data.get("to") in _VERDICTS):
        return "item.decided"
    return _WRITEBACK.get(kind) or _OUTCOME.get(kind)


def publish(
    session: Executor,
    audits: list[dict[str, Any]],
    items: Mapping[str, Mapping[str, Any] | RowMapping],
) -> None:
    """Publish the audit rows agents are told of; `items`: each item row as it stands, by id."""
    rows = []
    for audit in audits:
        kind = public_type(audit)
        if kind is not None:
            rows.append(_event_row(kind, audit, items.get(audit["item_id"] or "")))
    if not rows:
        return
    session.execute(_insert(_dialect(session)), rows)
    urls = _callback_urls(session, {row["workflow_id"] for row in rows})
    for row in rows:
        if url := urls.get(row["workflow_id"]):
            enqueue(
                session,
                kind=WEBHOOK,
                dedupe_key=f"event:{row['event_id']}",
                payload={"url": url, "event": row["event_id"], "type": row["type"]},
                item_id=row["item_id"],
                workflow_id=row["workflow_id"],
                pausable=False,  # the agent hears of a pause even while paused
            )


def _event_row(
    kind: str, audit: Mapping[str, Any], item: Mapping[str, Any] | RowMapping | None
) -> dict[str, Any]:
    data = _DATA[kind.partition(".")[0]](audit, dict(item or {}))
    at = audit["at"]
    return {
        "event_id": f"msg_{secrets.token_hex(12)}",
        "type": kind,
        "workflow_id": audit["workflow_id"],
        "item_id": audit["item_id"],
        "at": at,
        "body": {"type": kind, "timestamp": at.isoformat(), "data": data},
    }


def _item_data(audit: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: item.get(name) for name in _ITEM_FIELDS}
    return {
        "id": audit["item_id"],
        "workflow": audit["workflow_id"],
        **fields,
        "record": {"sobject": item.get("record_sobject"), "id": item.get("record_id")},
        "actor": audit["actor"],
        "detail": audit.get("data") or {},
    }


def _workflow_data(audit: Mapping[str, Any], _item: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(audit.get("data") or {})
    found = {"workflow": audit["workflow_id"], "actor": audit["actor"], "change": audit["type"]}
    if audit["type"] in _MODES:
        found["mode"] = _MODES[audit["type"]]
    return found | {"reason": data.pop("reason", None), "detail": data}


_DATA: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]] = {
    "item": _item_data,
    "workflow": _workflow_data,
}


def _dialect(session: Executor) -> str:
    bind = session if isinstance(session, Connection) else session.get_bind()
    return bind.dialect.name


@cache
def _insert(dialect: str) -> Any:
    if dialect != "postgresql":
        return _AGENT_EVENTS.insert()
    # Stamped by the database in the writing transaction: see AgentEvent.tx.
    xact = cast(cast(func.pg_current_xact_id(), Text), BigInteger)
    return _AGENT_EVENTS.insert().values(tx=xact)


def _callback_urls(session: Executor, workflow_ids: set[str]) -> dict[str, str]:
    """The `callback_url` of each workflow that has one, as stored by its last spec load."""
    found = session.execute(
        select(_WORKFLOWS.c.id, _WORKFLOWS.c.spec).where(_WORKFLOWS.c.id.in_(workflow_ids))
    )
    return {wid: spec["callback_url"] for wid, spec in found if (spec or {}).get("callback_url")}
