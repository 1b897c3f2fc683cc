"""The outbox: side effects committed with the state change, claimed by workers with a lease."""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, select

from bot.db import Database, Executor
from models import Outbox, OutboxAttempt, Workflow
from models.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt achieved: done, retry later, or give up."""

    state: str  # "done" | "retry" | "dead"
    detail: str = ""
    result: dict[str, Any] | None = None
    delay: float | None = None

    @classmethod
    def done(cls, detail: str = "", result: dict[str, Any] | None = None) -> Outcome:
        """Delivered."""
        return cls("done", detail, result)

    @classmethod
    def retry(cls, detail: str, delay: float | None = None) -> Outcome:
        """Failed for now; try again after a backoff (or `delay` seconds)."""
        return cls("retry", detail, delay=delay)

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


def enqueue(
    session: Executor,
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any] | None = None,
    item_id: str | None = None,
    workflow_id: str | None = None,
    pausable: bool = True,
    due_at: datetime | None = None,
) -> None:
    """Add a side effect in the caller's transaction; a repeated dedupe key is a no-op."""
    values = {
        "kind": kind,
        "dedupe_key": dedupe_key,
        "payload": payload or {},
        "item_id": item_id,
        "workflow_id": workflow_id,
        "pausable": pausable,
        "status": "pending",
        "attempts": 0,
        "max_attempts": 12,
        "due_at": due_at or utcnow(),
        "created_at": utcnow(),
    }
    dialect = (
        session.dialect.name
        if isinstance(session, Connection)
        else (session.get_bind().dialect.name)
    )
    session.execute(_insert_ignoring_duplicates(dialect), [values])


@cache
def _insert_ignoring_duplicates(dialect: str) -> Any:
    # Built once per dialect so SQLAlchemy's statement cache is hit on every enqueue.
    table = SQLModel.metadata.tables["outbox"]
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])


def backoff(attempt: int, base: float, cap: float = 900.0) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base ... up to `cap` seconds."""
    delay: float = min(cap, base * (2 ** max(0, attempt - 1)))
    return delay * random.uniform(0.8, 1.2)


@dataclass
class OutboxWorker:
    """Claims due rows atomically, delivers them through their Route, records every attempt."""

    db: Database
    routes: dict[str, Route]
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    lease: timedelta = timedelta(seconds=120)
    backoff_base: float = 2.0

    def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were attempted."""
        attempted = 0
        for kind, route in self.routes.items():
            if not route.ready():
                continue
            rows = self.claim([kind], route.batch_size)
            if rows:
                attempted += len(rows)
                self._deliver(route, rows)
        return attempted

    def drain(self, max_rounds: int = 50) -> int:
        """Run until nothing is due (for tests and `airlock demo`)."""
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def claim(self, kinds: list[str], limit: int) -> list[Outbox]:
        """Lease up to `limit` due rows of these kinds; no other worker can take them meanwhile."""
        now = utcnow()
        paused = select(Workflow.id).where(col(Workflow.paused).is_(True))
        due = and_(
            col(Outbox.status) == "pending",
            col(Outbox.kind).in_(kinds),
            col(Outbox.due_at) <= now,
            or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
            or_(
                col(Outbox.pausable).is_(False),
                col(Outbox.workflow_id).is_(None),
                col(Outbox.workflow_id).not_in(paused),
            ),
        )
        pick = (
            select(Outbox.id).where(due).order_by(col(Outbox.due_at), col(Outbox.id)).limit(limit)
        )
        if not self.db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
        with self.db.read() as session:
            # A cheap read first, so idle ticks never take the write lock.
            if session.exec(select(Outbox.id).where(due).limit(1)).first() is None:
                return []
        stmt = (
            update(Outbox)
            .where(col(Outbox.id).in_(pick.scalar_subquery()))
            .values(
                lease_until=now + self.lease,
                claimed_by=self.worker_id,
                attempts=Outbox.attempts + 1,
            )
            .returning(Outbox)
        )
        with self.db.write() as session:
            rows = list(session.scalars(stmt))
        return sorted(rows, key=lambda r: (r.due_at, r.id or 0))

    def _deliver(self, route: Route, rows: list[Outbox]) -> None:
        started = utcnow()
        with self._unless_paused(rows) as sendable:
            if not sendable:
                return
            try:
                outcomes = route.handler(sendable)
            except Exception as exc:
                log.exception("outbox handler failed for %s rows", len(sendable))
                outcomes = {
                    r.id or 0: Outcome.retry(f"{type(exc).__name__}: {exc}") for r in sendable
                }
        for row in sendable:
            outcome = outcomes.get(row.id or 0) or Outcome.retry("handler returned no outcome")
            self.finish(row, outcome, started)

    @contextmanager
    def _unless_paused(self, rows: list[Outbox]) -> Iterator[list[Outbox]]:
        """The rows whose workflow is still active, re-checked at send time (issue 10.19).

        A pause may commit between the claim and the send. On PostgreSQL the workflow rows are
        held FOR SHARE until the handler returns, so a pause waits for sends in flight and none
        starts after it (handlers must therefore never update a workflow row). Rows of a paused
        workflow go back to the queue without spending an attempt.
        """
        ids = sorted({r.workflow_id for r in rows if r.pausable and r.workflow_id})
        with self.db.read() as session:
            paused: set[str] = set()
            if ids:
                query = select(Workflow.id, Workflow.paused).where(col(Workflow.id).in_(ids))
                if not self.db.is_sqlite:
                    query = query.order_by(col(Workflow.id)).with_for_update(read=True)
                paused = {w for w, is_paused in session.exec(query) if is_paused}
            held = [r for r in rows if r.pausable and r.workflow_id in paused]
            if held:
                self._put_back(held)
            yield [r for r in rows if not (r.pausable and r.workflow_id in paused)]

    def _put_back(self, rows: list[Outbox]) -> None:
        with self.db.write() as session:
            session.execute(
                update(Outbox)
                .where(
                    col(Outbox.id).in_([r.id for r in rows]),
                    col(Outbox.claimed_by) == self.worker_id,
                )
                .values(lease_until=None, claimed_by=None, attempts=Outbox.attempts - 1)
            )

    def finish(self, row: Outbox, outcome: Outcome, started: datetime) -> bool:
        """Record the attempt and settle the row, if this worker still holds its lease."""
        values: dict[str, Any] = {"lease_until": None, "last_error": None}
        state = outcome.state
        if state == "retry" and row.attempts >= row.max_attempts:
            state, values["last_error"] = "dead", f"gave up after {row.attempts} attempts"
        if state == "done":
            values |= {"status": "done", "done_at": utcnow(), "result": outcome.result}
        elif state == "dead":
            values |= {"status": "dead", "done_at": utcnow(), "result": outcome.result}
            values["last_error"] = values["last_error"] or outcome.detail
        else:
            delay = (
                outcome.delay
                if outcome.delay is not None
                else backoff(row.attempts, self.backoff_base)
            )
            values |= {"due_at": utcnow() + timedelta(seconds=delay), "last_error": outcome.detail}
        with self.db.write() as session:
            result = session.execute(
                update(Outbox)
                .where(
                    col(Outbox.id) == row.id,
                    col(Outbox.claimed_by) == self.worker_id,
                    col(Outbox.attempts) == row.attempts,
                )
                .values(**values)
            )
            session.add(
                OutboxAttempt(
                    outbox_id=row.id or 0,
                    attempt=row.attempts,
                    worker=self.worker_id,
                    started_at=started,
                    outcome=state,
                    detail=outcome.detail[:2000],
                )
            )
        held = bool(result.rowcount == 1)  # type: ignore[attr-defined]
        if not held:
            log.warning("outbox row %s: lease lost before settling (%s)", row.id, state)
        return held
