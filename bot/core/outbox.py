"""The outbox: side effects committed with the state change, claimed by workers with a lease."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from bot.base.db import Database
from bot.core.outbox_lanes import Lanes, run_lanes
from bot.core.outbox_lease import LeaseKeeper
from bot.core.outbox_queue import (
    BatchHandler,
    Outcome,
    Route,
    backoff,
    enqueue,
    enqueue_all,
    outbox_row,
)
from bot.core.outbox_settle import GIVE_UP_AFTER, WAITING, GiveUpHook, Settler
from models import Outbox, Workflow
from models.types import utcnow

log = logging.getLogger(__name__)
# Outcome, Route and enqueue live in outbox_queue; callers import them from here too.
__all__ = [
    "GIVE_UP_AFTER",
    "WAITING",
    "BatchHandler",
    "GiveUpHook",
    "OutboxWorker",
    "Outcome",
    "Route",
    "backoff",
    "enqueue",
    "enqueue_all",
    "outbox_row",
]


@dataclass
class OutboxWorker:
    """Claims due rows atomically, delivers them through their Route, records every attempt.

    A claim takes only as many rows as the route has recently delivered in half a lease, and a
    heartbeat renews the lease while the handler works, so a slow batch is never handed to a
    second worker. A row given up (budget spent, outage outlasting `give_up_after`, or a worker
    dying on it `max_attempts` times) is passed to `on_give_up` in the same transaction.
    """

    db: Database
    routes: dict[str, Route]
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    lease: timedelta = timedelta(seconds=120)
    backoff_base: float = 2.0
    give_up_after: timedelta = GIVE_UP_AFTER
    on_give_up: GiveUpHook | None = None
    clock: Callable[[], datetime] = utcnow
    pace: dict[str, float] = field(default_factory=dict)  # seconds per row, by kind
    held_until: dict[str, datetime] = field(default_factory=dict)  # kinds not claimed until then

    def holding(self, kind: str) -> bool:
        """Whether this worker holds off a kind because its service refuses everyone."""
        until = self.held_until.get(kind)
        return until is not None and self.clock() < until

    def run_once(self) -> int:
        """Deliver what is due now; returns how many rows were attempted."""
        attempted = 0
        for kind, route in self.routes.items():
            rows = self._next_batch(kind, route, bury=True)
            # a full claim suggests a backlog (a probe after a hold goes alone)
            backlog = len(rows) >= self.claim_size(kind, route) and kind not in self.held_until
            attempted += run_lanes(
                Lanes(kind, route, self._next_batch, self._deliver), rows, backlog
            )
        return attempted

    def _next_batch(self, kind: str, route: Route, bury: bool = False) -> list[Outbox]:
        """A claim of the route's size, or none while the kind is held or not ready; `bury`
        first gives up the rows whose every claim died with its worker."""
        if self.holding(kind) or not route.ready():
            return []
        if bury:
            self.bury_crashed([kind])
        return self.claim([kind], self.claim_size(kind, route))

    def drain(self, max_rounds: int = 50) -> int:
        """Run until nothing is due (for tests and `airlock demo`)."""
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def claim_size(self, kind: str, route: Route) -> int:
        """The route's batch size, cut to what recent deliveries finished in half a lease.

        After a hold (the service refused everyone) one row probes first: while the refusal
        lasts, each try costs one row, not a batch.
        """
        if kind in self.held_until:
            return 1
        per_row = self.pace.get(kind)
        if not per_row:
            return route.batch_size
        fits = int(self.lease.total_seconds() / 2 / per_row)
        return max(1, min(route.batch_size, fits))

    def _due(self, kinds: list[str], now: datetime) -> Any:
        paused = select(Workflow.id).where(col(Workflow.paused).is_(True))
        return and_(
            col(Outbox.status) == "pending",
            col(Outbox.kind).in_(kinds),
            col(Outbox.due_at) <= now,
            col(Outbox.attempts) < col(Outbox.max_attempts),
            or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
            or_(
                col(Outbox.pausable).is_(False),
                col(Outbox.workflow_id).is_(None),
                col(Outbox.workflow_id).not_in(paused),
            ),
        )

    def claim(self, kinds: list[str], limit: int) -> list[Outbox]:
        """Lease up to `limit` due rows of these kinds; no other worker can take them meanwhile."""
        now = self.clock()
        due = self._due(kinds, now)
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

    def bury_crashed(self, kinds: list[str]) -> int:
        """Give up rows whose lease ran out `max_attempts` times: each claim died with a worker."""
        now = self.clock()
        spent = and_(
            col(Outbox.status) == "pending",
            col(Outbox.kind).in_(kinds),
            col(Outbox.attempts) >= col(Outbox.max_attempts),
            or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
        )
        with self.db.read() as session:
            found = list(session.exec(select(Outbox).where(spent).limit(100)))
        buried = 0
        for row in found:
            reason = (
                f"gave up: {row.attempts} deliveries stopped without a result "
                f"(the worker may crash on it); last error: {row.last_error or 'none'}"
            )
            with self.db.write() as session:
                held = session.execute(
                    update(Outbox)
                    .where(col(Outbox.id) == row.id, spent, col(Outbox.attempts) == row.attempts)
                    .values(status="dead", done_at=now, lease_until=None, last_error=reason)
                )
                if held.rowcount == 1:  # type: ignore[attr-defined]
                    buried += 1
                    self.settler.gave_up(session, row, reason)
        return buried

    def _deliver(self, kind: str, route: Route, rows: list[Outbox]) -> None:
        started = self.clock()
        began = time.monotonic()
        # The lease is renewed while the handler works, and no longer once it is done: a renewal
        # and the settling transaction locking the same rows could deadlock (PostgreSQL). The
        # settle's compare-and-set is on holder and attempt, which a lapsed lease leaves intact.
        keeper = LeaseKeeper(self.db, self.worker_id, rows, self.lease, self.clock)
        with keeper, self._unless_paused(rows) as sendable:
            if not sendable:
                return
            outcomes = self._outcomes(route, sendable)
        hold: float | None = None
        settled = [(r, outcomes.get(r.id or 0) or Outcome.retry("no outcome")) for r in sendable]
        with self.db.write() as session:  # one transaction settles the whole batch
            held = self.settler.settle(session, settled, started)
            for (_row, outcome), holds in zip(settled, held, strict=True):
                if holds and outcome.hold:
                    hold = outcome.delay or self.backoff_base
            if any(o.state == "done" for o in outcomes.values()):
                self._release_waiting(session, kind)
        if hold is None:
            self.held_until.pop(kind, None)
        else:
            self.held_until[kind] = self.clock() + timedelta(seconds=hold)
        self.pace[kind] = (time.monotonic() - began) / len(sendable)

    def _outcomes(self, route: Route, rows: list[Outbox]) -> dict[int, Outcome]:
        """The handler's outcomes; if it raises, each row alone again so only the culprit fails."""
        try:
            return route.handler(rows)
        except Exception as exc:
            if len(rows) == 1:
                log.exception("outbox row %s: handler failed", rows[0].id)
                return {rows[0].id or 0: Outcome.retry(f"{type(exc).__name__}: {exc}")}
            log.warning("outbox handler failed for %s rows; retrying them one by one", len(rows))
        outcomes: dict[int, Outcome] = {}
        for row in rows:
            outcomes |= self._outcomes(route, [row])
        return outcomes

    def _release_waiting(self, session: Session, kind: str) -> None:
        """The service answers again: rows of this kind waiting out the outage are due now.

        Their waits grew with the outage; without this they would trickle back one by one over
        the next half hour, each in a batch of its own.
        """
        now = self.clock()
        session.execute(
            update(Outbox)
            .where(
                col(Outbox.kind) == kind,
                col(Outbox.status) == "pending",
                col(Outbox.due_at) > now,
                col(Outbox.last_error).startswith(WAITING),
                or_(col(Outbox.lease_until).is_(None), col(Outbox.lease_until) < now),
            )
            .values(due_at=now)
        )

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
        with self.db.write() as session:
            return self.settler.settle(session, [(row, outcome)], started)[0]

    @property
    def settler(self) -> Settler:
        """Settles this worker's rows with its clock, backoff and give-up rules."""
        return Settler(
            self.worker_id, self.clock, self.backoff_base, self.give_up_after, self.on_give_up
        )
