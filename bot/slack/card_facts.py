"""What Salesforce says about a card's record when the card is built: name, labels, live values.

Read on the delivery path (the outbox worker, after any ack), one SOQL query per sObject for a
whole batch of cards, never per field. Labels and the name field come from the describe()
cache (`FieldCatalog`), described here when due. When Salesforce cannot be read the card is
still posted, saying that the live values were not checked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.core.field_values import same_at_scale
from bot.salesforce.errors import SalesforceError
from bot.salesforce.fields import FieldCatalog
from bot.salesforce.ids import id_key
from bot.salesforce.values import same
from bot.slack.blocks_data import RecordFacts
from models import Item

log = logging.getLogger(__name__)
# Before describe() has answered: the name field of most objects is Name; a Case is named by its
# number (and shown with its subject), a Task by its subject (Object Reference, "Case", "Task").
NAMES = {"Case": ("CaseNumber", "Subject"), "Task": ("Subject",), "Event": ("Subject",)}
# The Task fields an item's task keys are written to (bot.delivery.writeback_tasks.task_fields).
TASK_FIELDS = {"task.subject": "Subject", "task.due_date": "ActivityDate"}
TASK_FIELDS["task.description"] = "Description"


class RecordReader(Protocol):
    """What the facts are read with: SalesforceClient.read_fields."""

    def read_fields(
        self, sobject: str, ids: Iterable[str], fields: Iterable[str]
    ) -> dict[str, dict[str, Any]]: ...


def read_facts(
    items: Sequence[Item], client: RecordReader, catalog: FieldCatalog, now: datetime
) -> dict[str, RecordFacts]:
    """Facts for each item (by id): one query per sObject; labels even when the read fails."""
    _describe_due(items, catalog, now)
    facts = {item.id: RecordFacts(labels=labels_for(item, catalog)) for item in items}
    by_sobject: dict[str, list[Item]] = {}
    for item in items:
        if item.record_id and item.record_sobject:
            by_sobject.setdefault(item.record_sobject, []).append(item)
    for sobject, group in by_sobject.items():
        fields = _fields_to_read(sobject, group, catalog)
        try:
            rows = client.read_fields(sobject, [i.record_id or "" for i in group], fields)
        except (SalesforceError, ValueError) as error:
            log.warning("card facts: reading %s failed: %s", sobject, error)
            for item in group:
                facts[item.id] = RecordFacts(labels=facts[item.id].labels, unreadable=str(error))
            continue
        found = {id_key(record_id): row for record_id, row in rows.items()}
        for item in group:
            row = found.get(id_key(item.record_id))
            facts[item.id] = _facts(item, row, catalog, facts[item.id].labels, fields)
    return facts


def _describe_due(items: Sequence[Item], catalog: FieldCatalog, now: datetime) -> None:
    """describe() the sObjects the cards show that are not cached yet (at most once an hour)."""
    wanted = {i.record_sobject for i in items if i.record_sobject}
    wanted |= {"Task" for i in items if i.task}
    due = catalog.due({s for s in wanted if s}, now)
    if due and catalog.client is not None:
        catalog.refresh(due, now)


def name_fields(sobject: str, catalog: FieldCatalog) -> tuple[str, ...]:
    """The fields that name a record of this sObject, as describe() marks them."""
    fields = catalog.fields_of(sobject)
    named = tuple(name for name, meta in fields.items() if meta.name_field)
    if not named and fields:
        return tuple(n for n in NAMES.get(sobject, ("Name",)) if n in fields)
    if sobject == "Case" and "Subject" in fields:
        named += ("Subject",)
    return named or NAMES.get(sobject, ("Name",))


def labels_for(item: Item, catalog: FieldCatalog) -> dict[str, str]:
    """describe() labels of the item's fields and task keys (what a rep reads in Salesforce)."""
    labels = {}
    for change in item.changes:
        meta = catalog.field(item.record_sobject or "", _short(change["field"]))
        if meta is not None and meta.label:
            labels[change["field"]] = meta.label
    for key, name in TASK_FIELDS.items():
        meta = catalog.field("Task", name)
        if meta is not None and meta.label:
            labels[key] = f"Task {meta.label}"
    return labels


def _fields_to_read(sobject: str, group: list[Item], catalog: FieldCatalog) -> list[str]:
    wanted = list(name_fields(sobject, catalog))
    for item in group:
        wanted += [_short(c["field"]) for c in item.changes]
    visible = catalog.fields_of(sobject)
    # A field hidden from the integration user would fail the whole query (INVALID_FIELD).
    return list(dict.fromkeys(f for f in wanted if not visible or f in visible))


def _facts(
    item: Item,
    row: Mapping[str, Any] | None,
    catalog: FieldCatalog,
    labels: Mapping[str, str],
    read: list[str],
) -> RecordFacts:
    sobject = item.record_sobject or ""
    if row is None:
        missing = f"Salesforce has no {sobject} {item.record_id} (deleted, or not visible)"
        return RecordFacts(labels=labels, unreadable=missing)
    parts = [str(row[f]) for f in name_fields(sobject, catalog) if row.get(f) not in (None, "")]
    # A field the integration user cannot see was not read: it has no live value to show.
    live = {
        c["field"]: row.get(_short(c["field"])) for c in item.changes if _short(c["field"]) in read
    }
    stale = frozenset(
        c["field"]
        for c in item.changes
        if c["field"] in live
        and c.get("observed_given")
        and not _same(catalog, sobject, c, live[c["field"]])
    )
    return RecordFacts(": ".join(parts) or None, labels, live, stale)


def _same(catalog: FieldCatalog, sobject: str, change: dict[str, Any], now: Any) -> bool:
    """Whether Salesforce still holds what the agent saw (as the write-back compares them)."""
    meta = catalog.field(sobject, _short(change["field"]))
    observed = change.get("observed")
    return same(now, observed) or same_at_scale(meta, now, observed)


def _short(field: str) -> str:
    return field.split(".")[-1]
