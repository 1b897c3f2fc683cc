"""Reverts are feedback: written fields are re-read, in batches, for the spec's
`outcome.revert_window`; one a person changed away from the written value is recorded `reverted`.

Who changed it comes from the record's LastModifiedById and LastModifiedDate, audit fields every
record has (SOAP API Developer Guide, "System Fields"). Field history (OpportunityFieldHistory
and the like) would name the field's own editor, but it exists only for fields an admin chose to
track (at most 20 per object), so Airlock cannot rely on it. The record-level stamp has a known
blind spot: when the integration user touched the record after the person did, the change is
not attributed and is left unrecorded rather than guessed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.core import lifecycle
from bot.core.field_values import same_at_scale
from bot.core.runtime import Runtime
from bot.salesforce.client import COMPOSITE_LIMIT, SalesforceClient, SalesforceError
from bot.salesforce.ids import id_key
from bot.salesforce.values import same
from models import Event, Item

log = logging.getLogger(__name__)

WATCHED = ("written", "conflict")
WRITE_EVENTS = ("writeback_written", "writeback_conflict")
STAMPS = ("LastModifiedById", "LastModifiedDate")
LONGEST = timedelta(days=366)  # no window is looked past this (bounds the query)


def sweep(rt: Runtime, client: SalesforceClient, now: datetime) -> int:
    """Check every item still inside its revert window; returns how many were found reverted."""
    watched = _watched(rt, now)
    try:
        me = client.integration_user_id()
    except SalesforceError as error:
        log.warning("revert check skipped: %s", error)
        return 0
    found = 0
    by_sobject: dict[str, list[Item]] = {}
    for item in watched:
        by_sobject.setdefault(item.record_sobject or "", []).append(item)
    for sobject, items in by_sobject.items():
        for start in range(0, len(items), COMPOSITE_LIMIT):
            found += _check_batch(rt, client, sobject, items[start : start + COMPOSITE_LIMIT], me)
    return found


def _watched(rt: Runtime, now: datetime) -> list[Item]:
    """Written items whose write is younger than their workflow's revert window."""
    with rt.db.read() as session:
        written = (
            select(col(Event.item_id), func.max(Event.at))
            .where(col(Event.type).in_(WRITE_EVENTS), col(Event.at) >= now - LONGEST)
            .group_by(col(Event.item_id))
        )
        when = {item_id: at for item_id, at in session.exec(written) if item_id}
        query = select(Item).where(
            col(Item.id).in_(list(when)), col(Item.writeback_state).in_(WATCHED)
        )
        items = list(session.exec(query))
    inside = []
    for item in items:
        spec = rt.specs.specs.get(item.workflow_id)
        window = spec.spec.outcome.revert_window if spec else None
        if window is not None and now - when[item.id] <= window and _written(item):
            inside.append(item)
    return inside


def _written(item: Item) -> list[dict[str, Any]]:
    results = (item.writeback or {}).get("results") or []
    return [r for r in results if r.get("state") == "written"]


def _check_batch(
    rt: Runtime, client: SalesforceClient, sobject: str, items: list[Item], me: str
) -> int:
    names = sorted({r["field"] for item in items for r in _written(item)} | set(STAMPS))
    ids = [id_key(item.record_id) for item in items]
    try:
        current = client.read_fields(sobject, ids, names)  # ONE query for up to 200 records
    except SalesforceError as error:
        log.warning("revert check of %s skipped: %s", sobject, error)
        return 0
    found = 0
    for item in items:
        record = current.get(id_key(item.record_id))
        changed = _changed_by_person(rt, item, record, me) if record else []
        if changed and record is not None:
            _record(rt, item, record, changed)
            found += 1
    return found


def _changed_by_person(
    rt: Runtime, item: Item, record: dict[str, Any], me: str
) -> list[dict[str, Any]]:
    """Written fields now holding another value, when a person (not Airlock) last changed it."""
    if id_key(str(record.get("LastModifiedById") or "")) == me:
        return []
    changed = []
    for result in _written(item):
        now = record.get(result["field"])
        meta = rt.fields.field(item.record_sobject or "", result["field"])
        if not (same(now, result["value"]) or same_at_scale(meta, now, result["value"])):
            changed.append({"field": result["field"], "wrote": result["value"], "now": now})
    return changed


def _record(rt: Runtime, item: Item, record: dict[str, Any], changed: list[dict[str, Any]]) -> None:
    data = {
        "by": "salesforce",
        "who": record.get("LastModifiedById"),
        "when": record.get("LastModifiedDate"),
        "changed": changed,
    }
    with rt.db.write() as session:
        lifecycle.update_item_if(
            session,
            item.id,
            {"writeback_state": item.writeback_state},  # an undo may have got there first
            actor="system",
            event="writeback_reverted",
            data=data,
            writeback_state="reverted",
            writeback=(item.writeback or {}) | {"revert": data},
        )
