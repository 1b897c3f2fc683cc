"""Evidence bundles: a workflow's specs, items and events for a period, signed, checkable offline.

A bundle is JSON lines (canonical JSON, one record a line): a header, every spec version of the
workflow, then each item that arrived in [since, until) followed by its whole hash-chained trail
(from #1), then the workflow's own events of the period, and last a signature line. The header
names where the workflow's own events start (`starts`: seq and the hash it links to), so a trail
cut at its head is found. The signature covers the SHA-256 of every line before it and their
count, HMAC-SHA256 under AIRLOCK_AUDIT_KEY (as audit checkpoints are; a plain digest, marked
unsigned, without a key). bot.core.evidence_check verifies a bundle from the file alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.base.canonical import canonical_json
from bot.base.errors import NotFound
from bot.core.chain import item_stream, workflow_stream
from bot.core.checkpoint import sign
from bot.core.trace import item_summary
from models import Event, Item, WorkflowVersion

FORMAT = "airlock-evidence/1"
BATCH = 500


def known_workflow(session: Session, workflow_id: str) -> None:
    """NotFound unless some version of the workflow was ever loaded into this database."""
    query = select(WorkflowVersion.version).where(col(WorkflowVersion.workflow_id) == workflow_id)
    if session.exec(query.limit(1)).first() is None:
        raise NotFound(f"workflow {workflow_id!r} was never loaded here: check the id")


def bundle_lines(
    session: Session,
    workflow_id: str,
    since: datetime,
    until: datetime,
    key: str | None,
    now: datetime,
) -> Iterator[str]:
    """The bundle, line by line (each ends with a newline); streams items in batches."""
    digest, count = hashlib.sha256(), 0
    for record in _records(session, workflow_id, since, until, now, bool(key)):
        line = canonical_json(record) + "\n"
        digest.update(line.encode())
        count += 1
        yield line
    body = {"lines": count, "sha256": digest.hexdigest()}
    yield canonical_json({"type": "signature", **body, "signature": sign(body, key)}) + "\n"


def _records(
    session: Session, workflow_id: str, since: datetime, until: datetime, now: datetime, keyed: bool
) -> Iterator[dict[str, Any]]:
    own = (
        select(Event)
        .where(
            col(Event.stream) == workflow_stream(workflow_id),
            col(Event.at) >= since,
            col(Event.at) < until,
        )
        .order_by(col(Event.seq))
    )
    first = session.exec(own.limit(1)).first()
    yield {
        "type": "header",
        "format": FORMAT,
        "workflow": workflow_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "created_at": now.isoformat(),
        "signed": keyed,
        "starts": {} if first is None else {first.stream: _start(first)},
    }
    versions = select(WorkflowVersion).where(col(WorkflowVersion.workflow_id) == workflow_id)
    for version in session.exec(versions.order_by(col(WorkflowVersion.loaded_at))):
        yield {"type": "spec", "version": version.version, "spec": version.spec}
    for batch in _item_batches(session, workflow_id, since, until):
        events = _events(session, [item_stream(i.id) for i in batch])
        for item in batch:
            yield {"type": "item", "item": item_summary(item), "raw": item.raw}
            yield from events.get(item_stream(item.id), [])
    for event in session.exec(own):
        yield _event_record(event)


def _start(event: Event) -> dict[str, Any]:
    """Where a stream's events in the bundle start: the first seq and the hash it links to."""
    return {"seq": event.seq, "prev_hash": event.prev_hash}


def _item_batches(
    session: Session, workflow_id: str, since: datetime, until: datetime
) -> Iterator[list[Item]]:
    """Items in arrival order, by keyset on (workflow_id, created_at, id)."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Item).where(
            col(Item.workflow_id) == workflow_id,
            col(Item.created_at) >= since,
            col(Item.created_at) < until,
        )
        if after is not None:
            at, item_id = after
            query = query.where(
                (col(Item.created_at) > at)
                | ((col(Item.created_at) == at) & (col(Item.id) > item_id))
            )
        batch = list(session.exec(query.order_by(col(Item.created_at), col(Item.id)).limit(BATCH)))
        if not batch:
            return
        yield batch
        after = (batch[-1].created_at, batch[-1].id)


def _events(session: Session, streams: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    query = select(Event).where(col(Event.stream).in_(streams))
    for event in session.exec(query.order_by(col(Event.stream), col(Event.seq))):
        found.setdefault(event.stream, []).append(_event_record(event))
    return found


def _event_record(event: Event) -> dict[str, Any]:
    return {
        "type": "event",
        "stream": event.stream,
        "seq": event.seq,
        "event_type": event.type,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "data": event.data,
        "state": event.state,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
