"""An item's whole story: the public view of `GET /api/v1/items/{id}` and `airlock trace`."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from bot.base.errors import NotFound
from bot.core.field_outcomes import field_outcomes, outcome_text
from bot.core.lifecycle import item_stream
from models import Event, Item, Outbox, WorkflowVersion


def item_view(session: Session, item_id: str) -> dict[str, Any]:
    """Status, gate, level, checks, authority, decision, write-back state and the trace."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id!r} does not exist: check the id returned at intake")
    events = session.exec(
        select(Event).where(col(Event.stream) == item_stream(item_id)).order_by(col(Event.seq))
    ).all()
    effects = session.exec(
        select(Outbox).where(col(Outbox.item_id) == item_id).order_by(col(Outbox.id))
    ).all()
    return item_summary(item) | {
        "side_effects": [
            {"kind": o.kind, "status": o.status, "attempts": o.attempts, "error": o.last_error}
            for o in effects
        ],
        "trace": [
            {
                "seq": e.seq,
                "at": _iso(e.at),
                "type": e.type,
                "actor": e.actor,
                "data": e.data,
                "hash": e.hash,
            }
            for e in events
        ],
    }


def item_summary(item: Item) -> dict[str, Any]:
    """The item's own state, without its trail (what a card renders)."""
    return {
        "id": item.id,
        "workflow": item.workflow_id,
        "workflow_version": item.workflow_version,
        "agent": item.agent,
        "kind": item.kind,
        "title": item.title,
        "summary": item.summary,
        "reasons": item.reasons,
        "sources": item.sources,
        "confidence": item.confidence,
        "record": {"sobject": item.record_sobject, "id": item.record_id}
        if item.record_id
        else None,
        "changes": item.changes,
        "task": item.task,
        "message": item.message,
        "status": item.status,
        "gate": item.gate,
        "level": item.level,
        "gate_reasons": item.gate_reasons,
        "checks": item.checks,
        "assignee": item.assignee,
        "manager": item.manager,
        "escalated": item.escalated,
        "snoozed_until": _iso(item.snoozed_until),
        "authority": item.authority,
        "decision": {"by": item.decided_by, "at": _iso(item.decided_at), **(item.decision or {})}
        if item.decided_by
        else None,
        "writeback_state": item.writeback_state,
        "writeback": item.writeback,
        "created_at": _iso(item.created_at),
        "raw_hash": item.raw_hash,
    }


def governing_spec(session: Session, workflow_id: str, version: str) -> dict[str, Any] | None:
    """The exact spec version that governed an item."""
    row = session.get(WorkflowVersion, (workflow_id, version))
    return row.spec if row else None


def render_trace(view: dict[str, Any]) -> str:
    """A readable, plain-text story of one item for the terminal and Slack."""
    lines = [
        f"{view['id']}  {view['title']}",
        f"  workflow {view['workflow']} (spec {view['workflow_version']}), agent {view['agent']}",
        f"  {view['kind']} · level {view['level']} · gate {view['gate']} · status "
        f"{view['status']} · {view['authority']} · write-back {view['writeback_state']}",
    ]
    if view["decision"]:
        d = view["decision"]
        on_behalf = f" for {d['for']}" if d.get("for") else ""  # a delegate decided
        lines.append(f"  decided by {d['by']}{on_behalf} at {d['at']}")
        lines += [f"    {outcome_text(r)}" for r in field_outcomes(view["changes"], d)]
    lines.append(
        "  checks: "
        + ", ".join(
            f"{c['name']} {'ok' if c['passed'] else 'FAILED (' + c['on_fail'] + ')'}"
            for c in view["checks"]
        )
    )
    lines.append("")
    for event in view["trace"]:
        lines.append(
            f"  #{event['seq']:<3} {event['at'][:19]}Z  {event['type']:<18} {event['actor']}"
        )
        if event["data"]:
            lines.append(f"        {_short(event['data'])}")
    return "\n".join(lines)


def _short(data: dict[str, Any], width: int = 160) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
