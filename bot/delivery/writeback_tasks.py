"""Provenance on what Airlock writes, and Tasks created exactly once (also across a crash)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.base.db import Database
from bot.base.errors import NotFound
from bot.base.levels import Authority
from bot.base.spec_model import WorkflowSpec
from bot.core import lifecycle
from bot.delivery.writeback_outcome import unreadable
from bot.salesforce.client import SalesforceClient, SalesforceError, soql_literal
from bot.salesforce.ids import id_key
from bot.salesforce.soql_text import soql_datetime
from models import Item
from models.types import utcnow

SUBJECT_LIMIT = 255  # Task.Subject is a 255-character text field
DESCRIPTION_LIMIT = 32_000
WHO_SOBJECTS = frozenset({"Lead", "Contact"})  # people: Task.WhoId; everything else: WhatId
CLOCK_SKEW = timedelta(minutes=5)  # Airlock's clock against Salesforce's CreatedDate
CANDIDATES = 200  # the record's Tasks created since the intent, searched for the item's marker


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


def record_intent(db: Database, item: Item) -> tuple[Item, bool]:
    """Commit the intent to create the item's Task (its Subject, and when) before Salesforce is
    called, by compare-and-set; returns the stored item and whether an intent already existed
    (an earlier attempt, or another deliverer, may have created the Task)."""
    with db.write() as session:
        stored = session.get(Item, item.id, populate_existing=True)
        if stored is None:
            raise NotFound(f"item {item.id} does not exist")
        details = stored.writeback or {}
        if details.get("task_intent") or details.get("task_id"):
            return stored, True
        subject = task_subject(stored)
        # wall-clock time: it is compared with Salesforce's CreatedDate, not Airlock's schedule
        intent = {"task_intent": subject, "task_intent_at": utcnow().isoformat()}
        recorded = lifecycle.update_item_if(
            session,
            item.id,
            {"audit_seq": stored.audit_seq},  # nobody changed the item since it was read
            actor="system",
            event="writeback_task_intent",
            data={"subject": subject},
            writeback=details | intent,
        )
    if recorded is not None:
        return recorded, False
    with db.read() as session:  # lost the race: the other deliverer's intent stands
        return session.get(Item, item.id) or stored, True


def create_once(
    client: SalesforceClient, item: Item, spec: WorkflowSpec, *, look_first: bool
) -> str:
    """The Task's id: with `look_first` (an intent from an earlier attempt), the Task that
    attempt may have created, found by what people do not edit; else a new one.

    Call record_intent first; raises SalesforceError for the caller to classify.
    """
    stored = item.writeback or {}
    if stored.get("task_id"):
        return str(stored["task_id"])
    # the earlier attempt may have died after Salesforce created it but before we recorded it
    found = find_task(client, item, spec) if look_first else None
    if found is not None:
        return found
    fields = task_fields(item) | {"Subject": str(stored.get("task_intent") or task_subject(item))}
    if spec.writeback.task_item_field:
        fields[spec.writeback.task_item_field] = item.id
    try:
        return client.create("Task", fields)
    except SalesforceError as error:
        # a unique external-id field refuses a second Task for the item: that one is ours
        found = find_task(client, item, spec) if error.error_code == "DUPLICATE_VALUE" else None
        if found is not None:
            return found
        named = unreadable(error, fields)
        if named is None:
            raise
        message = f"{named} {error.message}"
        raise SalesforceError(error.kind, message, error.status, error.error_code) from error


def find_task(client: SalesforceClient, item: Item, spec: WorkflowSpec) -> str | None:
    """The Task created for the item, if any: by the item id in the spec's `task_item_field`,
    else among the record's Tasks created since the intent, by the item's marker in the Subject
    or in the provenance footer of the Description (people edit one, rarely both)."""
    if spec.writeback.task_item_field:
        found = client.find_one("Task", spec.writeback.task_item_field, item.id)
        return None if found is None else str(found["Id"])
    since = _intent_time(item) - CLOCK_SKEW
    where = [f"CreatedDate >= {soql_datetime(since)}"]
    if item.record_id:
        relation = "WhoId" if item.record_sobject in WHO_SOBJECTS else "WhatId"
        where.insert(0, f"{relation} = {soql_literal(id_key(item.record_id))}")
    rows = client.query(
        f"SELECT Id, Subject, Description FROM Task WHERE {' AND '.join(where)} "
        f"ORDER BY CreatedDate LIMIT {CANDIDATES}"
    )
    marker, footer = f"[airlock:{item.id}]", f"from item {item.id} ("
    for row in rows:
        if marker in str(row.get("Subject") or "") or footer in str(row.get("Description") or ""):
            return str(row["Id"])
    return None


def _intent_time(item: Item) -> datetime:
    text = (item.writeback or {}).get("task_intent_at")
    if not text:  # an intent recorded before the time was kept: look back a day
        return utcnow() - timedelta(days=1)
    parsed = datetime.fromisoformat(str(text))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
