"""Evidence bundles: a workflow's specs, items and events for a period, signed, checkable offline.

A bundle is JSON lines (canonical JSON, one record a line): a header, every spec version of the
workflow, then each item that arrived in [since, until) followed by its hash-chained events, then
the workflow's own events of the period, and last a signature line. The signature covers the
SHA-256 of every line before it and their count, HMAC-SHA256 under AIRLOCK_AUDIT_KEY (as audit
checkpoints are; a plain digest, marked unsigned, without a key). `verify` needs nothing but the
file (and the key to check the signature): it recomputes every event's chain hash and link, the
running digest and the signature, so an edited, dropped or added line is named.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.base.canonical import canonical_json
from bot.base.errors import NotFound
from bot.core.chain import chain_hash, item_stream, workflow_stream
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
    yield {
        "type": "header",
        "format": FORMAT,
        "workflow": workflow_id,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "created_at": now.isoformat(),
        "signed": keyed,
    }
    versions = select(WorkflowVersion).where(col(WorkflowVersion.workflow_id) == workflow_id)
    for version in session.exec(versions.order_by(col(WorkflowVersion.loaded_at))):
        yield {"type": "spec", "version": version.version, "spec": version.spec}
    for batch in _item_batches(session, workflow_id, since, until):
        events = _events(session, [item_stream(i.id) for i in batch])
        for item in batch:
            yield {"type": "item", "item": item_summary(item), "raw": item.raw}
            yield from events.get(item_stream(item.id), [])
    own = select(Event).where(
        col(Event.stream) == workflow_stream(workflow_id),
        col(Event.at) >= since,
        col(Event.at) < until,
    )
    for event in session.exec(own.order_by(col(Event.seq))):
        yield _event_record(event)


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


@dataclass
class Verdict:
    """What `airlock evidence verify` found."""

    workflow: str | None = None
    items: int = 0
    events: int = 0
    signed: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(lines: Iterable[str], key: str | None) -> Verdict:
    """Check a bundle's lines: chain hashes and links, the digest, the count and the signature."""
    verdict, digest, count = Verdict(), hashlib.sha256(), 0
    heads: dict[str, tuple[int, str]] = {}
    signature: dict[str, Any] | None = None
    for number, line in enumerate(lines, start=1):
        if signature is not None:
            verdict.problems.append(f"line {number}: content after the signature line")
            continue
        try:
            record = json.loads(line)
        except ValueError:
            verdict.problems.append(f"line {number}: not JSON")
            continue
        if record.get("type") == "signature":
            signature = record
            continue
        digest.update(line.encode() if line.endswith("\n") else (line + "\n").encode())
        count += 1
        _check_record(record, number, verdict, heads)
    if signature is None:
        verdict.problems.append("no signature line: the bundle was cut short")
    else:
        _check_signature(signature, count, digest.hexdigest(), key, verdict)
    return verdict


def _check_record(
    record: dict[str, Any], number: int, verdict: Verdict, heads: dict[str, tuple[int, str]]
) -> None:
    kind = record.get("type")
    if kind == "header":
        verdict.workflow = record.get("workflow")
        if record.get("format") != FORMAT:
            verdict.problems.append(f"line {number}: unknown format {record.get('format')!r}")
    elif kind == "item":
        verdict.items += 1
    elif kind == "event":
        verdict.events += 1
        row = {**record, "type": record["event_type"], "at": datetime.fromisoformat(record["at"])}
        if chain_hash(row) != record["hash"]:
            verdict.problems.append(f"line {number}: {record['stream']} #{record['seq']} altered")
        head = heads.get(record["stream"])
        if head is not None and (head[0] + 1 != record["seq"] or head[1] != record["prev_hash"]):
            verdict.problems.append(
                f"line {number}: {record['stream']} #{record['seq']} does not follow #{head[0]}"
            )
        heads[record["stream"]] = (record["seq"], record["hash"])


def _check_signature(
    signature: dict[str, Any], count: int, digest: str, key: str | None, verdict: Verdict
) -> None:
    body = {"lines": signature.get("lines"), "sha256": signature.get("sha256")}
    if body != {"lines": count, "sha256": digest}:
        verdict.problems.append(
            f"the lines do not match the signed digest ({count} lines read, "
            f"{body['lines']} signed): a line was changed, added or removed"
        )
        return
    stored = str(signature.get("signature", ""))
    verdict.signed = stored.startswith("hmac-sha256:")
    if verdict.signed and not key:
        verdict.notes.append("signed with a key: set AIRLOCK_AUDIT_KEY to check the signature")
    elif not hmac.compare_digest(sign(body, key if verdict.signed else None), stored):
        verdict.problems.append("the signature does not match: wrong key, or the bundle was forged")
    if not verdict.signed:
        verdict.notes.append("unsigned bundle (no AIRLOCK_AUDIT_KEY when exported): digest only")
