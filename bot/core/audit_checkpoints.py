"""Verify the checkpoints: their chain and signatures, the heads they signed, exported lines.

Checkpoints are read a page at a time; the heads they signed are checked against the events in
batches (the newest head of a stream within a batch implies the older ones, since verify has
checked each chain link by link).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, tuple_
from sqlmodel import Session, col, select

from bot.core.audit_report import ChainProblem, Report
from bot.core.checkpoint import SignedHead, check_step
from models import AuditCheckpoint, Event

# What `airlock audit checkpoint` prints: `checkpoint #N time signature` (first word optional).
_LINE = re.compile(r"^(?:checkpoint\s+)?#(\d+)\s+(\S+)\s+(\S+)$")


@dataclass(frozen=True)
class Exported:
    """A checkpoint as exported off the machine: its number, time and signature."""

    seq: int
    at: str
    signature: str


def parse_exported(text: str) -> list[Exported]:
    """Exported checkpoint lines, one per non-blank line; ValueError naming a line that is not."""
    found: list[Exported] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw.strip())
        if match is None:
            raise ValueError(
                f"line {number}: {raw.strip()[:80]!r} is not `#N time signature` "
                "(as printed by `airlock audit checkpoint`)"
            )
        found.append(Exported(int(match[1]), match[2], match[3]))
    if not found:
        raise ValueError(
            "no checkpoint line given: expected `#N time signature` as printed by "
            "`airlock audit checkpoint`"
        )
    return found


def check_exported(session: Session, exported: Iterable[Exported], report: Report) -> None:
    """Each exported checkpoint must still be in the database, unchanged."""
    newest = session.exec(select(func.max(AuditCheckpoint.seq))).one() or 0
    for line in exported:
        cp = session.get(AuditCheckpoint, line.seq)
        if cp is None:
            problem = (
                f"exported checkpoint #{line.seq} ({line.at}) is missing from the database "
                f"(newest there: #{newest}): checkpoints were deleted"
            )
        elif cp.at.isoformat() != line.at or cp.signature != line.signature:
            problem = (
                f"checkpoint #{line.seq} differs from the exported line: the database has "
                f"{cp.at.isoformat()} {cp.signature}, the export {line.at} {line.signature}"
            )
        else:
            report.notes.append(f"exported checkpoint #{line.seq} found unchanged")
            continue
        report.problems.append(ChainProblem("checkpoints", problem))


def check_checkpoints(session: Session, key: str | None, report: Report, batch: int) -> None:
    """Replay the checkpoints page by page and check the heads they signed."""
    prev: AuditCheckpoint | None = None
    seen_signed = False
    pending: dict[str, SignedHead] = {}
    flagged: set[str] = set()
    for cp in _pages(session, batch):
        report.checkpoints += 1
        problems = check_step(prev, cp, key, seen_signed)
        report.problems.extend(ChainProblem("checkpoints", p) for p in problems)
        seen_signed = seen_signed or cp.signed
        for stream, (seq, head) in cp.heads.items():
            pending[stream] = SignedHead(seq, head, cp.seq)
        if len(pending) >= batch:
            _check_heads(session, pending, flagged, report)
            pending = {}
        prev = cp
    _check_heads(session, pending, flagged, report)
    if seen_signed and not key:
        report.notes.append(
            "signed checkpoints were not checked: set AIRLOCK_AUDIT_KEY to the key that signed them"
        )


def _pages(session: Session, batch: int) -> Iterator[AuditCheckpoint]:
    query = select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq)).limit(batch)
    after = 0
    while page := list(session.exec(query.where(col(AuditCheckpoint.seq) > after))):
        yield from page
        after = page[-1].seq
        session.expunge_all()


def _check_heads(
    session: Session, heads: dict[str, SignedHead], flagged: set[str], report: Report
) -> None:
    todo = {s: h for s, h in heads.items() if s not in flagged and h.seq > 0}
    if not todo:
        return
    keys = [(s, h.seq) for s, h in todo.items()]
    found = {
        (s, n): h
        for s, n, h in session.exec(
            select(Event.stream, Event.seq, Event.hash).where(
                tuple_(Event.stream, Event.seq).in_(keys)
            )
        )
    }
    for stream, head in todo.items():
        stored = found.get((stream, head.seq))
        if stored == head.hash:
            continue
        flagged.add(stream)
        problem = (
            _head_problem(session, stream, head)
            if stored is None
            else (
                f"event #{head.seq} differs from checkpoint #{head.checkpoint}: the chain was "
                "recomputed after it was signed"
            )
        )
        report.problems.append(ChainProblem(stream, problem))


def _head_problem(session: Session, stream: str, head: SignedHead) -> str:
    remain = session.exec(select(func.count()).where(Event.stream == stream)).one()
    if not remain:
        return (
            f"the whole stream is gone: checkpoint #{head.checkpoint} signed {head.seq} event(s) "
            "for it (the item or workflow was deleted with its events)"
        )
    return (
        f"the stream was truncated: checkpoint #{head.checkpoint} signed {head.seq} event(s), "
        f"{remain} remain (events deleted and the head rolled back)"
    )
