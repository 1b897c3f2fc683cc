"""Provenance on what Airlock writes, and Tasks created exactly once (also across a crash)."""

from __future__ import annotations

from typing import Any

from bot import lifecycle
from bot.db import Database
from bot.levels import Authority
from bot.salesforce import SalesforceClient
from bot.salesforce_ids import id_key
from bot.spec_model import WorkflowSpec
from models import Item

SUBJECT_LIMIT = 255  # Task.Subject is a 255-character text field
DESCRIPTION_LIMIT = 32_000
WHO_SOBJECTS = frozenset({"Lead", "Contact"})  # people: Task.WhoId; everything else: WhatId


def authority_text(item: Item) -> str:
    """`confirmed by <who> <when>` or `advisory`: what the record is stamped with."""
    if item.authority != Authority.CONFIRMED.value or item.decided_at is None:
        return Authority.ADVISORY.value
    when = item.decided_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{Authority.CONFIRMED.value} by {item.decided_by} {when}"


def provenance_fields(item: Item, spec: WorkflowSpec) -> dict[str, Any]:
    """The spec-mapped provenance fields to stamp on an updated record (often none)."""
    stamps: dict[str, Any] = {}
    if spec.writeback.authority_field:
        stamps[spec.writeback.authority_field] = authority_text(item)
    if spec.writeback.item_field:
        stamps[spec.writeback.item_field] = item.id
    return stamps


def effective_task(item: Item) -> dict[str, Any]:
    """The task to create: a reviewer's edits (`task.<key>`) replace the agent's values."""
    edits = (item.decision or {}).get("edits", {})
    task = dict(item.task or {})
    for name, edit in edits.items():
        if name.startswith("task."):
            task[name.removeprefix("task.")] = edit["to"]
    return task


def task_subject(item: Item) -> str:
    """The Subject, ending in a marker unique to the item: how a lost create is found again."""
    # SOQL cannot filter on long text (Description), so the marker lives in the Subject.
    marker = f" [airlock:{item.id}]"
    subject = str(effective_task(item).get("subject") or item.title)
    return subject[: SUBJECT_LIMIT - len(marker)].rstrip() + marker


def task_description(item: Item) -> str:
    """The task's description with a provenance footer (item, authority, confirmer, time)."""
    body = str(effective_task(item).get("description") or "").strip()
    if item.authority == Authority.CONFIRMED.value and item.decided_at is not None:
        when = item.decided_at.strftime("%Y-%m-%d %H:%M UTC")
        authority = f"confirmed by {item.decided_by} at {when}"
    else:
        authority = "advisory (no human confirmed it)"
    footer = (
        f"--\nCreated by Airlock from item {item.id} (workflow {item.workflow_id}, "
        f"agent {item.agent}).\nAuthority: {authority}."
    )
    room = DESCRIPTION_LIMIT - len(footer) - 2
    return f"{body[:room]}\n\n{footer}" if body else footer


def task_fields(item: Item) -> dict[str, Any]:
    """The Task record to create, related to the item's record.

    A Lead or Contact goes in WhoId, anything else in WhatId (Object Reference, "Task"). Status
    and Priority are left out: both are "Defaulted on create" with the value the org marks
    IsDefault (Object Reference, "TaskStatus", "TaskPriority"), so the org's own values apply
    ("Not Started" and "Normal" are only the out-of-the-box ones) with no describe call.
    """
    task = effective_task(item)
    relation = "WhoId" if item.record_sobject in WHO_SOBJECTS else "WhatId"
    fields: dict[str, Any] = {
        "Subject": task_subject(item),
        "Description": task_description(item),
        relation: id_key(item.record_id) or None,
    }
    if task.get("due_date"):
        fields["ActivityDate"] = str(task["due_date"])
    return fields


def record_intent(db: Database, item: Item) -> Item:
    """Commit the intent to create the item's Task (its Subject) before Salesforce is called."""
    stored = item.writeback or {}
    if stored.get("task_intent") or stored.get("task_id"):
        return item
    subject = task_subject(item)
    with db.write() as session:
        return lifecycle.update_item(
            session,
            item.id,
            actor="system",
            event="writeback_task_intent",
            data={"subject": subject},
            writeback=stored | {"task_intent": subject},
        )


def create_once(client: SalesforceClient, item: Item, *, look_first: bool) -> str:
    """The Task's id: with `look_first` (an intent from an earlier attempt), the Task that
    attempt may have created, found by its Subject marker; else a new one.

    Call record_intent first; raises SalesforceError for the caller to classify.
    """
    stored = item.writeback or {}
    if stored.get("task_id"):
        return str(stored["task_id"])
    subject = str(stored.get("task_intent") or task_subject(item))
    # the earlier attempt may have died after Salesforce created it but before we recorded it
    found = client.find_one("Task", "Subject", subject) if look_first else None
    if found is not None:
        return str(found["Id"])
    return client.create("Task", task_fields(item) | {"Subject": subject})
