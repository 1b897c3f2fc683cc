"""`airlock db rebuild-stats`: recompute every rollup from the item rows, in one transaction."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import typer
from sqlalchemy import Table, case, delete, func, inspect, null, select, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from bot.base.db import Database, Executor
from bot.core.rollups import COLUMNS, FACT_COLUMNS, STATS, HourKey, count_hours, dialect_of, spread

_ITEMS: Table = SQLModel.metadata.tables["item"]
BATCH = 5000
_ROWS_PER_INSERT = 1000


def rebuild(executor: Executor, progress: Callable[[int], None] | None = None) -> int:
    """Replace the counters with a recount of every item; returns how many items were read.

    On PostgreSQL the counter table is locked first: a state change committing meanwhile waits at
    its counter upsert until the recount is stored, so it is counted once, after it. SQLite
    serialises writers anyway. Memory follows the number of counters, not of items.
    """
    if dialect_of(executor) == "postgresql":
        executor.execute(text("LOCK TABLE stat_count IN SHARE ROW EXCLUSIVE MODE"))
    hours: Counter[HourKey] = Counter()
    seen = 0
    for batch in _batches(executor):
        count_hours(batch, hours)
        seen += len(batch)
        if progress is not None:
            progress(len(batch))
    executor.execute(delete(STATS))
    total = spread(hours)
    rows = [dict(zip(COLUMNS, key, strict=True)) | {"n": n} for key, n in total.items() if n]
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        executor.execute(STATS.insert(), rows[start : start + _ROWS_PER_INSERT])
    return seen


def _batches(executor: Executor) -> Iterator[list[Any]]:
    """Item fact rows in id order, BATCH at a time (keyset paging: each page is an index seek)."""
    # Only a rejected item's decision is read (for its reason): the JSON of the others is skipped.
    decision = case((_ITEMS.c.status == "rejected", _ITEMS.c.decision), else_=null())
    # Run by migrations too: a fact column a later migration adds is read as NULL until then.
    bind = executor.connection() if isinstance(executor, Session) else executor
    present = {column["name"] for column in inspect(bind).get_columns("item")}
    columns = [
        _ITEMS.c[c] if c in present else null().label(c) for c in FACT_COLUMNS if c != "decision"
    ]
    query = select(_ITEMS.c.id, *columns, decision.label("decision")).order_by(_ITEMS.c.id)
    last = ""
    while True:
        page = executor.execute(query.where(_ITEMS.c.id > last).limit(BATCH)).all()
        if not page:
            return
        last = page[-1].id
        yield [r._mapping for r in page]


def item_count(db: Database) -> int:
    """How many items a rebuild reads."""
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(_ITEMS)).scalar_one())


def rebuild_all(db: Database, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild in one write transaction of `db`."""
    with db.write() as session:
        return rebuild(session, progress)


def rebuild_command(db: Database) -> str:
    """`airlock db rebuild-stats`: a progress bar on a terminal, then what was done."""
    started = time.perf_counter()
    if sys.stderr.isatty():
        with typer.progressbar(length=item_count(db), label="items", file=sys.stderr) as bar:
            seen = rebuild_all(db, bar.update)
    else:
        seen = rebuild_all(db)
    with db.read() as session:
        counters = session.execute(select(func.count()).select_from(STATS)).scalar_one()
    took = time.perf_counter() - started
    return f"rebuilt {counters} counters from {seen} items in {took:.1f} s"
