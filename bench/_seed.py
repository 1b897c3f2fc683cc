"""Bulk-seeds a history of items and their audit events straight through the driver.

A realistic mix over the last 90 days: two agents per workflow, most items decided (approved,
edited, rejected with a reason, expired), some still pending, auto-accepted or blocked, and
write-back outcomes on the approved ones. Rows go in with executemany (SQLite) or COPY
(PostgreSQL); the hash chains are placeholders: nothing here verifies the trail.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from bot.base.db import Database

ITEMS: Table = SQLModel.metadata.tables["item"]
EVENTS: Table = SQLModel.metadata.tables["event"]
CHUNK = 20_000
STATUSES = [
    ("approved", 40),
    ("edited", 10),
    ("rejected", 22),
    ("expired", 8),
    ("pending", 10),
    ("auto_accepted", 6),
    ("blocked", 4),
]
# The columns every bench item shares (bench/sweep.py uses them too).
ITEM_BASE: dict[str, Any] = {
    "agent_key_id": "bench",
    "request_hash": "x",
    "raw": "{}",
    "raw_hash": "x",
    "kind": "field_update",
    "title": "Bench item",
    "summary": "",
    "reasons": [],
    "sources": [],
    "changes": [],
    "level": "crm_write",
    "gate": "rep",
    "gate_reasons": [],
    "checks": [],
    "assignee": "U0MAYA",
}
REASONS = ["inaccurate", "wrong_record", "tone", "not_useful", "duplicate"]
WRITES = ["written"] * 8 + ["conflict", "failed"]


def _item(n: int, rng: random.Random, workflows: list[str], now: datetime) -> dict[str, Any]:
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
    decided = status in ("approved", "edited", "rejected", "expired")
    decided_at = created + timedelta(seconds=rng.lognormvariate(8, 1.2)) if decided else None
    decision = {"reason": rng.choice(REASONS), "text": ""} if status == "rejected" else None
    return {
        "id": f"itm_{n:012d}",
        "workflow_id": workflows[n % len(workflows)],
        "workflow_version": "bench",
        "agent": f"agent-{n % 2}",
        **ITEM_BASE,
        "idempotency_key": f"b{n}",
        "escalated": rng.random() < 0.1,
        "status": status,
        "authority": "confirmed" if decided else "advisory",
        "decided_by": "U0MAYA" if decided else None,
        "decided_at": decided_at,
        "decision": decision,
        "writeback_state": rng.choice(WRITES) if status in ("approved", "edited") else "none",
        "audit_seq": 3 if decided else 2,
        "created_at": created,
        "updated_at": decided_at or created,
    }


def _events(item: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kinds = ["received", item["status"]] + ([item["status"]] if item["decided_at"] else [])
    for seq, kind in enumerate(kinds, start=1):
        yield {
            "stream": item["id"],
            "item_id": item["id"],
            "workflow_id": item["workflow_id"],
            "seq": seq,
            "type": kind,
            "actor": "system",
            "at": item["decided_at"] if seq == 3 else item["created_at"],
            "data": {},
            "prev_hash": None,
            "state": None,
            "hash": f"{seq:064d}",
        }


def seed(db: Database, count: int, workflows: list[str], now: datetime) -> int:
    """Insert `count` items and their events; returns the number of events."""
    rng, events = random.Random(count), 0
    for start in range(0, count, CHUNK):
        items = [_item(n, rng, workflows, now) for n in range(start, min(count, start + CHUNK))]
        trail = [e for i in items for e in _events(i)]
        _bulk(db, ITEMS, items)
        _bulk(db, EVENTS, trail)
        events += len(trail)
    return events


def _bulk(db: Database, table: Table, rows: list[dict[str, Any]]) -> None:
    columns = [c.name for c in table.columns if c.name in rows[0]]
    raw = db.write_engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.is_sqlite:
            tuples = [tuple(_sqlite(r[c]) for c in columns) for r in rows]
            marks = ", ".join("?" for _ in columns)
            cursor.execute("BEGIN")
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", tuples
            )
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row([_pg(r[c]) for c in columns])
        raw.commit()
    finally:
        raw.close()


def _sqlite(value: Any) -> Any:
    """What SQLAlchemy would store: JSON text, UTC wall time as text, booleans as 0/1."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def _pg(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value
