"""`airlock export-evals` as a stream: judged items read in keyset-paginated batches and written
as they are read, so memory stays flat whatever the history (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from bot.core.runtime import Runtime
from bot.reporting.report import VERDICTS, _record
from models import Item

BATCH = 500


def _judged(workflow: str | None) -> Any:
    where = col(Item.status).in_(VERDICTS)
    return and_(where, col(Item.workflow_id) == workflow) if workflow else where


def judged_count(rt: Runtime, workflow: str | None = None) -> int:
    """How many items the export will write (for the progress bar)."""
    with rt.db.read() as session:
        return int(session.exec(select(func.count()).where(_judged(workflow))).one())


def judged_batches(
    rt: Runtime, workflow: str | None = None, size: int = BATCH
) -> Iterator[list[Item]]:
    """Judged items oldest first, `size` at a time: each batch resumes after the last one's key
    (created_at, id), so no batch re-reads or skips rows and none holds a cursor open."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(Item).where(_judged(workflow))
        if after is not None:
            stamp, last = after
            created = col(Item.created_at)
            query = query.where(or_(created > stamp, and_(created == stamp, col(Item.id) > last)))
        query = query.order_by(col(Item.created_at), col(Item.id)).limit(size)
        with rt.db.read() as session:
            batch = list(session.exec(query))
        if not batch:
            return
        yield batch
        after = (batch[-1].created_at, batch[-1].id)


def write_evals(
    rt: Runtime,
    out: IO[str],
    workflow: str | None = None,
    *,
    size: int = BATCH,
    progress: Callable[[int], None] = lambda _n: None,
) -> int:
    """Write one JSONL line per judged item to `out` as batches arrive; returns how many."""
    written = 0
    for batch in judged_batches(rt, workflow, size):
        out.writelines(_line(_record(item)) for item in batch)
        written += len(batch)
        progress(len(batch))
    return written


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str) + "\n"
