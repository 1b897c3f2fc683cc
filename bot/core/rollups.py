"""Rollups: per-bucket counters kept in the transaction of each item change.

An item contributes one count to each of its facts (current status, write-back state, escalated,
reject reason, decision-latency bucket, status per segment, read outcomes) in the hour, the day
and the all-time bucket of its arrival. Read models sum buckets, so their cost follows the window
and the number of workflows, never the number of items; `airlock db rebuild-stats` recomputes the
same counts from the rows.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bot.base.db import Executor
from models import StatCount

STATS: Table = SQLModel.metadata.tables[StatCount.__tablename__]
_ITEMS: Table = SQLModel.metadata.tables["item"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DECIDED = ("approved", "edited", "rejected")
# The item columns the facts are read from, and those of them a change can move.
FACT_COLUMNS = (
    "workflow_id",
    "agent",
    "created_at",
    "status",
    "writeback_state",
    "escalated",
    "decision",
    "decided_at",
    "segment",
    "outcome",
)
MOVABLE = frozenset(FACT_COLUMNS[3:])
# Built once: these run in every decision's transaction.
_READ_FACTS = (
    select(*(_ITEMS.c[c] for c in FACT_COLUMNS))
    .where(_ITEMS.c.id == bindparam("item_id"))
    .with_for_update()
)
# Decision latency buckets: 8 per doubling of the seconds. A percentile read from the counts is
# its bucket's geometric middle: within 2**(1/16) - 1 = 4.4% of the exact value (0.5 s under 1 s).
WAIT_STEPS = 8
_KEY_CHARS = 100
_PENDING = "airlock_pending_rollups"
Key = tuple[str, str, datetime, str, str, str]  # workflow, grain, bucket, agent, metric, key
HourKey = tuple[str, datetime, str, str, str]  # workflow, hour, agent, metric, key


def wait_bucket(seconds: float) -> int:
    """The latency bucket of a decision taken `seconds` after arrival."""
    return 0 if seconds < 1 else math.floor(math.log2(seconds) * WAIT_STEPS) + 1


def wait_estimate(bucket: int) -> timedelta:
    """The value a percentile landing in `bucket` reads as."""
    seconds = 0.5 if bucket == 0 else 2 ** ((bucket - 0.5) / WAIT_STEPS)
    return timedelta(seconds=round(seconds, 3))


def facts(row: Mapping[Any, Any]) -> list[tuple[str, str]]:
    """(metric, key) pairs one item row counts towards."""
    status = row["status"]
    found = [("status", status)]
    if row["writeback_state"] != "none":
        found.append(("writeback", row["writeback_state"]))
    if row["escalated"]:
        found.append(("escalated", ""))
    if status == "rejected":
        reason = (row["decision"] or {}).get("reason")
        found.append(("reason", "" if reason is None else str(reason)[:_KEY_CHARS]))
    if status in DECIDED and row["decided_at"] is not None:
        wait = (row["decided_at"] - row["created_at"]).total_seconds()
        found.append(("wait", str(wait_bucket(wait))))
    return found + _segment_facts(row.get("segment"), status, row.get("outcome"))


def _segment_facts(
    segment: str | None, status: str, outcome: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    """Status per segment; per read outcome, (arm, met, metric) overall and in the segment.

    Keys are `:`-joined with the free text last (statuses, arms and metric names hold no `:`).
    """
    found = [] if segment is None else [("segment", f"{status}:{segment}"[:_KEY_CHARS])]
    arm = (outcome or {}).get("arm")
    for metric, met in ((outcome or {}).get("metrics") or {}).items() if arm else ():
        key = f"{arm}:{int(bool(met))}:{metric}"
        found.append(("outcome", key[:_KEY_CHARS]))
        if segment is not None:
            found.append(("seg_outcome", f"{key}:{segment}"[:_KEY_CHARS]))
    return found


def buckets(hour: datetime) -> list[tuple[str, datetime]]:
    """The hour, day and all-time buckets of an arrival hour."""
    return [("h", hour), ("d", hour.replace(hour=0)), ("t", EPOCH)]


def count_hours(rows: Iterable[Mapping[Any, Any]], into: Counter[HourKey]) -> None:
    """Add each row's facts to `into`, per (workflow, arrival hour, agent, metric, key)."""
    for row in rows:
        hour = row["created_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        head = (row["workflow_id"], hour, str(row["agent"])[:200])
        for fact in facts(row):
            into[head + fact] += 1


def spread(hours: Mapping[HourKey, int]) -> Counter[Key]:
    """Hourly counts added into their hour, day and all-time counters."""
    total: Counter[Key] = Counter()
    for (workflow, hour, agent, metric, key), n in hours.items():
        for grain, bucket in buckets(hour):
            total[(workflow, grain, bucket, agent, metric, key)] += n
    return total


def contributions(row: Mapping[str, Any] | None) -> Counter[Key]:
    """Every counter one item row adds one to."""
    hours: Counter[HourKey] = Counter()
    count_hours([] if row is None else [row], hours)
    return spread(hours)


def item_facts(item: Any) -> dict[str, Any]:
    """The fact columns of a loaded Item."""
    return {name: getattr(item, name) for name in FACT_COLUMNS}


def read_facts(session: Session, item_id: str) -> dict[str, Any] | None:
    """An item's fact columns before a change, locked on PostgreSQL until the change commits."""
    found = session.execute(_READ_FACTS, {"item_id": item_id}).first()
    return dict(found._mapping) if found else None


def read_many_facts(session: Session, item_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Fact columns of many items before a batch change, locked in id order (no deadlock)."""
    query = (
        select(_ITEMS.c.id, *(_ITEMS.c[c] for c in FACT_COLUMNS))
        .where(_ITEMS.c.id.in_(sorted(item_ids)))
        .order_by(_ITEMS.c.id)
        .with_for_update()
    )
    found = session.execute(query).mappings()
    return {row["id"]: {c: row[c] for c in FACT_COLUMNS} for row in found}


def note(session: Session, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> None:
    """Remember how a change moved the counters; they are written just before the commit."""
    delta = contributions(after)
    delta.subtract(contributions(before))
    pending: Counter[Key] = session.info.setdefault(_PENDING, Counter())
    pending.update({k: n for k, n in delta.items() if n})


def apply(executor: Executor | Session, delta: Mapping[Key, int]) -> None:
    """Add `delta` to the counters: one upsert per counter, in key order.

    The order matters on PostgreSQL: every transaction locks the counters it moves in the same
    order, after its other work, so two commits can wait on each other's counters but never
    deadlock; ON CONFLICT DO UPDATE adds to the row under its lock, so no update is lost.
    """
    rows = [
        dict(zip(COLUMNS, key, strict=True)) | {"n": n} for key, n in sorted(delta.items()) if n
    ]
    if rows:
        executor.execute(_upsert(dialect_of(executor)), rows)


COLUMNS = ("workflow_id", "grain", "bucket", "agent", "metric", "key")


def dialect_of(executor: Executor | Session) -> str:
    """sqlite or postgresql."""
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return str(bind.dialect.name)


@functools.cache
def _upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(STATS)
    return stmt.on_conflict_do_update(
        index_elements=list(COLUMNS), set_={"n": STATS.c.n + stmt.excluded.n}
    )


def recount(rows: Iterable[Mapping[Any, Any]]) -> Counter[Key]:
    """The counters a set of item rows adds up to."""
    hours: Counter[HourKey] = Counter()
    count_hours(rows, hours)
    return spread(hours)


@event.listens_for(Session, "before_commit")
def _flush(session: Session) -> None:
    delta = session.info.pop(_PENDING, None)
    if delta:
        apply(session, delta)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
