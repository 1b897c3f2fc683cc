"""The spans of a human decision and of an item's write, in the agent's trace (bot.base.tracing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.base import tracing
from models import Item


def trace_decision(item: Item, approver: str, decision: str, now: datetime) -> None:
    """An approval span from intake to the verdict: who decided what, after how long a wait."""
    if not tracing.on():
        return
    attributes = {
        "airlock.item_id": item.id,
        "airlock.workflow": item.workflow_id,
        "airlock.approver": approver,
        "airlock.decision": decision,
        "airlock.wait_seconds": max((now - item.created_at).total_seconds(), 0.0),
    }
    tracing.record("airlock.approval", item.traceparent, attributes, item.created_at)


def trace_writes(written: Sequence[tuple[Item, str]], started: datetime, batch: Any) -> None:
    """One span per item of a write-back batch, in that item's trace, linked to the batch."""
    for item, result in written:
        attributes = {
            "airlock.item_id": item.id,
            "airlock.workflow": item.workflow_id,
            "airlock.result": result,
        }
        tracing.record("airlock.write", item.traceparent, attributes, started, batch)
