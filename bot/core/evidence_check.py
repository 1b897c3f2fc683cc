"""`airlock evidence verify`: check an evidence bundle (bot.core.evidence) from the file alone.

It recomputes every event's chain hash and link, checks that each trail starts where the bundle
says (an item's at #1, the workflow's own at the header's `starts`), the running digest and the
signature, so an edited, dropped or added line is named. With AIRLOCK_AUDIT_KEY set the operator
expects a bundle signed with that key: one that is unsigned, or signed with another key, is
refused, since anyone can recompute an unsigned digest after rewriting the lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.chain import chain_hash, item_stream
from bot.core.checkpoint import sign
from bot.core.evidence import FORMAT


@dataclass
class Verdict:
    """What `airlock evidence verify` found."""

    workflow: str | None = None
    items: int = 0
    events: int = 0
    signed: bool = False
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Reading:
    """What the lines read so far promise: each stream's declared start and its last event."""

    verdict: Verdict
    header_signed: bool | None = None
    starts: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)


def verify(lines: Iterable[str], key: str | None) -> Verdict:
    """Check a bundle's lines: chain hashes, links and starts, the digest, count and signature."""
    reading, digest, count = _Reading(Verdict()), hashlib.sha256(), 0
    signature: dict[str, Any] | None = None
    for number, line in enumerate(lines, start=1):
        if signature is not None:
            reading.verdict.problems.append(f"line {number}: content after the signature line")
            continue
        try:
            record = json.loads(line)
        except ValueError:
            reading.verdict.problems.append(f"line {number}: not JSON")
            continue
        if record.get("type") == "signature":
            signature = record
            continue
        digest.update(line.encode() if line.endswith("\n") else (line + "\n").encode())
        count += 1
        _check_record(record, number, reading)
    _check_trails_present(reading)
    if signature is None:
        reading.verdict.problems.append("no signature line: the bundle was cut short")
    else:
        _check_signature(signature, count, digest.hexdigest(), key, reading)
    return reading.verdict


def _check_record(record: dict[str, Any], number: int, reading: _Reading) -> None:
    verdict, kind = reading.verdict, record.get("type")
    if kind == "header":
        verdict.workflow = record.get("workflow")
        if record.get("format") != FORMAT:
            verdict.problems.append(f"line {number}: unknown format {record.get('format')!r}")
        reading.header_signed = bool(record.get("signed"))
        for stream, start in (record.get("starts") or {}).items():
            reading.starts[stream] = (start.get("seq"), start.get("prev_hash"))
    elif kind == "item":
        verdict.items += 1
        # An item that arrived in the period comes with its whole trail, from its first event.
        reading.starts[item_stream(record["item"]["id"])] = (1, None)
    elif kind == "event":
        verdict.events += 1
        row = {**record, "type": record["event_type"], "at": datetime.fromisoformat(record["at"])}
        if chain_hash(row) != record["hash"]:
            verdict.problems.append(f"line {number}: {record['stream']} #{record['seq']} altered")
        _check_link(record, number, reading)
        reading.heads[record["stream"]] = (record["seq"], record["hash"])


def _check_link(record: dict[str, Any], number: int, reading: _Reading) -> None:
    """An event follows the one before it in its stream; a stream's first, its declared start."""
    stream, seq, problems = record["stream"], record["seq"], reading.verdict.problems
    head = reading.heads.get(stream)
    if head is not None:
        if head[0] + 1 != seq or head[1] != record["prev_hash"]:
            problems.append(f"line {number}: {stream} #{seq} does not follow #{head[0]}")
        return
    start = reading.starts.get(stream)
    if start is None:
        problems.append(f"line {number}: {stream} #{seq} belongs to no item or start in the bundle")
    elif start[0] != seq:
        problems.append(
            f"line {number}: {stream} starts at #{seq}, the bundle says #{start[0]}: "
            "the head of its trail was cut"
        )
    elif start[1] != record["prev_hash"]:
        problems.append(f"line {number}: {stream} #{seq} does not link to the declared start")


def _check_trails_present(reading: _Reading) -> None:
    for stream, (seq, _) in reading.starts.items():
        if stream not in reading.heads:
            reading.verdict.problems.append(
                f"{stream}: no events, the bundle says they start at #{seq}: they were cut"
            )


def _check_signature(
    signature: dict[str, Any], count: int, digest: str, key: str | None, reading: _Reading
) -> None:
    verdict = reading.verdict
    body = {"lines": signature.get("lines"), "sha256": signature.get("sha256")}
    if body != {"lines": count, "sha256": digest}:
        verdict.problems.append(
            f"the lines do not match the signed digest ({count} lines read, "
            f"{body['lines']} signed): a line was changed, added or removed"
        )
        return
    stored = str(signature.get("signature", ""))
    verdict.signed = stored.startswith("hmac-sha256:")
    if reading.header_signed is not None and reading.header_signed != verdict.signed:
        verdict.problems.append(
            f"the header says {'signed' if reading.header_signed else 'unsigned'} but the "
            f"signature line is {'signed' if verdict.signed else 'a plain digest'}: rewritten"
        )
    if key and not verdict.signed:
        verdict.problems.append(
            "unsigned bundle, but AIRLOCK_AUDIT_KEY is set: a bundle exported with the key is "
            "signed, and anyone can recompute a plain digest after rewriting the lines, so "
            "nothing in this one is vouched for"
        )
    elif verdict.signed and not key:
        verdict.notes.append("signed with a key: set AIRLOCK_AUDIT_KEY to check the signature")
    elif not hmac.compare_digest(sign(body, key if verdict.signed else None), stored):
        verdict.problems.append("the signature does not match: wrong key, or the bundle was forged")
    if not verdict.signed and not key:
        verdict.notes.append("unsigned bundle (no AIRLOCK_AUDIT_KEY when exported): digest only")
