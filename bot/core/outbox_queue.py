"""What goes into the outbox: rows enqueued in the caller's transaction, and delivery outcomes."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel

from bot.base.db import Executor
from models import Outbox
from models.types import utcnow


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt achieved: done, retry later, wait out an outage, or give up.

    `retry` spends one of the row's `max_attempts`; `wait` does not (rate limits, 5xx, timeouts,
    expired sessions: the far side is down, the row is fine) and gives up only when the row has
    waited longer than the worker's `give_up_after`.
    """

    state: str  # "done" | "retry" | "wait" | "dead"
    detail: str = ""
    result: dict[str, Any] | None = None
    delay: float | None = None
    # The whole service refuses everyone (API limit, rejected credentials): stop claiming this
    # kind until the row's next try, instead of claiming and failing every other batch too.
    hold: bool = False

    @classmethod
    def done(cls, detail: str = "", result: dict[str, Any] | None = None) -> Outcome:
        """Delivered."""
        return cls("done", detail, result)

    @classmethod
    def retry(cls, detail: str, delay: float | None = None) -> Outcome:
        """Failed for now; try again after a backoff (or `delay` seconds)."""
        return cls("retry", detail, delay=delay)

    @classmethod
    def wait(cls, detail: str, delay: float | None = None, *, hold: bool = False) -> Outcome:
        """The service is unavailable; try again later without spending an attempt."""
        return cls("wait", detail, delay=delay, hold=hold)

    @classmethod
    def dead(cls, detail: str, result: dict[str, Any] | None = None) -> Outcome:
        """Failed for good; retrying cannot help."""
        return cls("dead", detail, result)


BatchHandler = Callable[[Sequence[Outbox]], dict[int, Outcome]]


@dataclass(frozen=True)
class Route:
    """How a kind of outbox row is delivered, and how many rows one call may take."""

    handler: BatchHandler
    batch_size: int = 1
    # False holds this kind's rows unclaimed (no attempt is used), e.g. near an API limit
    ready: Callable[[], bool] = lambda: True
    # Batches delivered at once when a backlog is due: one batch's network wait overlaps the
    # next one's database work (bot/core/outbox_lanes.py).
    lanes: int = 1


def outbox_row(
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any] | None = None,
    item_id: str | None = None,
    workflow_id: str | None = None,
    pausable: bool = True,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of a new outbox row (for enqueue_all)."""
    now = utcnow()
    return {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "payload": payload or {},
        "item_id": item_id,
        "workflow_id": workflow_id,
        "pausable": pausable,
        "status": "pending",
        "attempts": 0,
        "max_attempts": 12,
        "due_at": due_at or now,
        "created_at": now,
    }


def enqueue(session: Executor, **row: Any) -> None:
    """Add a side effect in the caller's transaction; a repeated dedupe key is a no-op.

    Takes outbox_row()'s keyword arguments.
    """
    enqueue_all(session, [outbox_row(**row)])


def enqueue_all(session: Executor, rows: list[dict[str, Any]]) -> None:
    """Add many outbox_row() values in one statement, in order; repeated dedupe keys are no-ops."""
    if not rows:
        return
    dialect = (
        session.dialect.name
        if isinstance(session, Connection)
        else (session.get_bind().dialect.name)
    )
    session.execute(_insert_ignoring_duplicates(dialect), rows)


@cache
def _insert_ignoring_duplicates(dialect: str) -> Any:
    # Built once per dialect so SQLAlchemy's statement cache is hit on every enqueue.
    table = SQLModel.metadata.tables["outbox"]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])


# A generator of its own: drawing from the `random` module would move the state other code (and
# property-based tests generating data in the same process) relies on.
_RANDOM = random.Random()


def jitter() -> float:
    """A backoff's random factor, 0.8-1.2."""
    return _RANDOM.uniform(0.8, 1.2)


def backoff(attempt: int, base: float, cap: float = 900.0, spread: float | None = None) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base ... up to `cap` seconds, times
    `spread` (a fresh jitter() when not given)."""
    delay: float = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay * (jitter() if spread is None else spread)
