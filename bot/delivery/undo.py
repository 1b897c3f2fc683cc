"""Undo on the outbox: write back what Salesforce held before Airlock's write, field by field.

The prior values were recorded at write time: each written field's result keeps `current`, the
value the conflict check read just before the PATCH (bot/delivery/writeback.py). A field changed
since Airlock wrote it is someone's newer work: it is left alone and the person is told.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.base.mrkdwn import esc
from bot.core import lifecycle
from bot.core.effects import CARD, NOTIFY
from bot.core.outbox import Outcome, Route, enqueue
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient, SalesforceError
from bot.salesforce.ids import id_key
from bot.salesforce.values import same
from models import Item, Outbox

log = logging.getLogger(__name__)

# Task.Status picklist value for a done Task (Object Reference, "Task": IsClosed follows Status).
CLOSED_TASK = "Completed"


def undo_route(rt: Runtime, client: SalesforceClient) -> Route:
    """Outbox route delivering `salesforce.revert` rows (one item per call)."""

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return {row.id or 0: _undo_one(rt, client, row) for row in rows}

    return Route(deliver)


def _undo_one(rt: Runtime, client: SalesforceClient, row: Outbox) -> Outcome:
    with rt.db.read() as session:
        item = session.get(Item, row.item_id)
    if item is None:
        return Outcome.dead(f"item {row.item_id} does not exist")
    if item.writeback_state == "reverted":
        return Outcome.done("already reverted")
    try:
        restored, kept = _restore_fields(client, item)
        task = _undo_task(rt, client, item)
    except SalesforceError as error:
        if error.kind == "fatal":
            return Outcome.dead(f"Salesforce refused the undo: {error.message or error}")
        return Outcome.retry(f"Salesforce {error.kind}: {error.message or error}")
    data = {"by": "undo", "who": row.payload.get("by"), "reason": row.payload.get("reason")}
    data |= {"restored": restored, "kept": kept, "task": task}
    with rt.db.write() as session:
        lifecycle.update_item(
            session,
            item.id,
            actor=f"user:{data['who']}",
            event="writeback_reverted",
            data=data,
            writeback_state="reverted",
            writeback=(item.writeback or {}) | {"revert": data},
        )
        enqueue(session, **_told(item, data))
        if item.decided_by and not item.decided_by.startswith("policy:"):  # a card to re-render
            enqueue(
                session,
                kind=CARD,
                dedupe_key=f"{item.id}:card:reverted",
                item_id=item.id,
                workflow_id=item.workflow_id,
                payload={"update": True},
            )
    rt.kick()
    return Outcome.done("reverted", result=data)


def _restore_fields(
    client: SalesforceClient, item: Item
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write prior values where Salesforce still holds Airlock's; returns (restored, kept)."""
    written = [
        r for r in (item.writeback or {}).get("results") or [] if r.get("state") == "written"
    ]
    if not written or not item.record_id or not item.record_sobject:
        return [], []
    record_id = id_key(item.record_id)
    names = sorted({r["field"] for r in written})
    now = client.read_fields(item.record_sobject, [record_id], names).get(record_id, {})
    restored, kept, patch = [], [], {"Id": record_id}
    for result in written:
        name, value = result["field"], now.get(result["field"])
        if same(value, result["value"]):
            patch[name] = result.get("current")
            restored.append({"field": name, "from": value, "to": result.get("current")})
        else:
            kept.append({"field": name, "wrote": result["value"], "now": value})
    if restored:
        (outcome,) = client.update_records(item.record_sobject, [patch])
        if not outcome.success:
            raise SalesforceError(outcome.kind or "fatal", outcome.message or "", 400)
    return restored, kept


def _undo_task(rt: Runtime, client: SalesforceClient, item: Item) -> str | None:
    """Close or delete the Task Airlock created, as the spec's `writeback.task_on_revert` says."""
    task_id = (item.writeback or {}).get("task_id")
    if not task_id:
        return None
    if rt.spec(item.workflow_id).spec.writeback.task_on_revert == "delete":
        client.delete("Task", str(task_id))
        return f"deleted {task_id}"
    (outcome,) = client.update_records("Task", [{"Id": task_id, "Status": CLOSED_TASK}])
    if not outcome.success:
        raise SalesforceError(outcome.kind or "fatal", outcome.message or "", 400)
    return f"closed {task_id}"


def _told(item: Item, data: dict[str, Any]) -> dict[str, Any]:
    """The person who asked hears what was restored and what was left alone, and why."""
    where = f"{item.record_sobject} {item.record_id}"
    parts = [f":leftwards_arrow_with_hook: Reverted {item.id} ({esc(item.title)}) on {where}."]
    if data["restored"]:
        parts.append("Restored: " + ", ".join(r["field"] for r in data["restored"]) + ".")
    if data["kept"]:
        fields = ", ".join(f"{k['field']} (now {k['now']!r})" for k in data["kept"])
        parts.append(
            f"Not overwritten: {fields} changed in Salesforce since Airlock wrote it; "
            "change it by hand if it should go back."
        )
    if data["task"]:
        parts.append(f"Task {data['task']}.")
    return {
        "kind": NOTIFY,
        "dedupe_key": f"{item.id}:reverted",
        "payload": {"to": data["who"], "reason": "reverted", "text": " ".join(parts)},
        "item_id": item.id,
        "workflow_id": item.workflow_id,
        "pausable": False,
    }
