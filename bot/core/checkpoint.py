"""Signed checkpoints over the audit streams' heads (the Certificate Transparency idea).

Each event chain proves its own order, but not that the stream still exists or still ends where
it did: deleting an item with all its events, or truncating a chain and rolling its head back,
leaves chains that verify. A checkpoint records the (seq, hash) head of every stream that moved
since the checkpoint before it, chained to that checkpoint and signed with HMAC-SHA256 under
`AIRLOCK_AUDIT_KEY`, a key the database does not hold. Replaying the checkpoints gives the last
signed head of every stream; `airlock audit verify` then requires each stream to still reach it
with the same hash. Someone with write access to the database but not the key can neither forge a
checkpoint nor recompute a chain that a checkpoint already covers without it being noticed.

Like any log kept in the database it audits, the newest checkpoints could be deleted whole; the
README advises exporting `airlock audit checkpoint` output off the machine for that case.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.base.canonical import canonical_json
from bot.base.db import Database
from bot.core.lifecycle import item_stream, workflow_stream
from models import AuditCheckpoint, Event, Item, Workflow
from models.types import utcnow

# PostgreSQL hands out event ids before commit: a transaction holding a lower id can commit
# after a checkpoint saw a higher one. Looking back this many ids covers its stream next time.
LOOKBACK_IDS = 1000


@dataclass(frozen=True)
class SignedHead:
    """The last signed head of one stream and the checkpoint that signed it."""

    seq: int
    hash: str | None
    checkpoint: int


def sign(body: dict[str, Any], key: str | None) -> str:
    """HMAC-SHA256 under the key, or a plain SHA-256 (marked unsigned) without one."""
    data = canonical_json(body).encode()
    if key:
        return "hmac-sha256:" + hmac.new(key.encode(), data, hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def body_of(cp: AuditCheckpoint) -> dict[str, Any]:
    """What a checkpoint's signature covers."""
    return {
        "seq": cp.seq,
        "at": cp.at.isoformat(),
        "watermark": cp.watermark,
        "heads": cp.heads,
        "prev": cp.prev_signature,
    }


def latest(session: Session) -> AuditCheckpoint | None:
    """The newest checkpoint, if any."""
    query = select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc()).limit(1)
    return session.exec(query).first()


def write_checkpoint(db: Database, key: str | None, now: datetime | None = None) -> int | None:
    """Sign the heads of every stream that moved since the last checkpoint; None if none did."""
    try:
        return _write(db, key, now)
    except IntegrityError:
        return None  # another replica wrote this checkpoint number first; its heads will do


def _write(db: Database, key: str | None, now: datetime | None) -> int | None:
    with db.write() as session:
        last = latest(session)
        top = session.exec(select(func.max(Event.id))).one() or 0
        since = (last.watermark - LOOKBACK_IDS) if last else 0
        if last is not None and top <= last.watermark:
            return None
        streams = set(
            session.exec(select(Event.stream).where(col(Event.id) > since).distinct()).all()
        )
        heads = _current_heads(session, streams)
        cp = AuditCheckpoint(
            seq=(last.seq + 1) if last else 1,
            at=now or utcnow(),
            watermark=top,
            heads=heads,
            prev_signature=last.signature if last else None,
            signed=bool(key),
            signature="",
        )
        cp.signature = sign(body_of(cp), key)
        session.add(cp)
        return cp.seq


def _current_heads(session: Session, streams: set[str]) -> dict[str, list[Any]]:
    heads: dict[str, list[Any]] = {}
    items = [s for s in streams if not s.startswith("workflow:")]
    for chunk in _chunks(items, 500):
        for i, n, h in session.exec(
            select(Item.id, Item.audit_seq, Item.audit_head).where(col(Item.id).in_(chunk))
        ):
            heads[item_stream(i)] = [n, h]
    for w, n, h in session.exec(select(Workflow.id, Workflow.audit_seq, Workflow.audit_head)):
        if workflow_stream(w) in streams:
            heads[workflow_stream(w)] = [n, h]
    return heads


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def check_step(
    prev: AuditCheckpoint | None, cp: AuditCheckpoint, key: str | None, seen_signed: bool
) -> list[str]:
    """What is wrong with one checkpoint, given the one before it (None for the first)."""
    problems: list[str] = []
    expected = (prev.seq + 1) if prev else 1
    if cp.seq != expected or cp.prev_signature != (prev.signature if prev else None):
        problems.append(
            f"checkpoint #{cp.seq} does not follow checkpoint #{expected - 1}: "
            "checkpoints were deleted or inserted"
        )
    return problems + _check_signature(cp, key, seen_signed)


def _check_signature(cp: AuditCheckpoint, key: str | None, seen_signed: bool) -> list[str]:
    if cp.signed and not key:
        return []  # cannot be checked here; verify says so once
    if not cp.signed and key and seen_signed:
        return [f"checkpoint #{cp.seq} is unsigned after signed ones: written without the key"]
    if hmac.compare_digest(sign(body_of(cp), key if cp.signed else None), cp.signature):
        return []
    return [
        f"checkpoint #{cp.seq} does not match its signature: it was edited, or forged without "
        "AIRLOCK_AUDIT_KEY (or the key changed)"
    ]
