"""How a delivery attempt settles outbox rows: state, next try, and the attempt log.

A batch settles in a few statements whatever its size: one read of which rows this worker still
holds, one UPDATE per shape of change (executemany) and one INSERT of the attempt rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlmodel import Session, SQLModel

from bot.core.outbox_queue import Outcome, backoff, jitter
from models import Outbox
from models.types import utcnow

log = logging.getLogger(__name__)

GiveUpHook = Callable[[Session, Outbox, str], None]
GIVE_UP_AFTER = timedelta(days=3)
# A long outage is polled less often: at least half as long as it has lasted, up to this.
WAIT_CAP = 1800.0
WAITING = "waiting: "  # last_error of a row waiting out an outage (it spent no attempt)
_OUTBOX: Table = SQLModel.metadata.tables["outbox"]
_ATTEMPTS: Table = SQLModel.metadata.tables["outbox_attempt"]


@dataclass(frozen=True)
class Settler:
    """Settles rows claimed by `worker_id`: a worker that lost a lease changes nothing."""

    worker_id: str
    clock: Callable[[], datetime]
    backoff_base: float
    give_up_after: timedelta
    on_give_up: GiveUpHook | None

    def settle(
        self, session: Session, settled: Sequence[tuple[Outbox, Outcome]], started: datetime
    ) -> list[bool]:
        """Record each attempt and settle each row this worker still holds; which were held."""
        held = self._held(session, [row for row, _ in settled])
        # One jitter per batch: its rows tried again come due together and are claimed as one
        # batch again, instead of in parts as each row's own draw came due.
        spread = jitter()
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        attempts, dead = [], []
        for (row, outcome), holds in zip(settled, held, strict=True):
            state, values = self.settlement(row, outcome, started, spread)
            if holds:
                params = {"b_id": row.id, "b_attempts_was": row.attempts}
                shapes.setdefault(tuple(sorted(values)), []).append(
                    params | {f"b_{k}": v for k, v in values.items()}
                )
                if state == "dead":
                    dead.append((row, values["last_error"] or outcome.detail))
            else:
                log.warning("outbox row %s: lease lost before settling (%s)", row.id, state)
            recorded = state if holds else f"{state} (lease lost)"
            attempts.append(self._attempt(row, outcome, recorded) | {"started_at": started})
        for columns, rows in shapes.items():
            session.execute(self._update(columns), rows)
        if attempts:
            session.execute(_ATTEMPTS.insert(), attempts)
        for row, reason in dead:
            self.gave_up(session, row, reason)
        return held

    def _held(self, session: Session, rows: list[Outbox]) -> list[bool]:
        """Compare-and-set on the lease holder: still pending, ours, and the attempt we claimed."""
        if not rows:
            return []
        query = select(_OUTBOX.c.id, _OUTBOX.c.attempts).where(
            _OUTBOX.c.id.in_([r.id for r in rows]),
            _OUTBOX.c.status == "pending",
            _OUTBOX.c.claimed_by == self.worker_id,
        )
        if session.get_bind().dialect.name != "sqlite":
            # in id order, as every other writer of claimed rows locks them
            query = query.order_by(_OUTBOX.c.id).with_for_update()  # SQLite: one writer anyway
        current = dict(session.execute(query).tuples().all())
        return [current.get(r.id) == r.attempts for r in rows]

    def _update(self, columns: tuple[str, ...]) -> Any:
        return (
            update(_OUTBOX)
            .where(
                _OUTBOX.c.id == bindparam("b_id"),
                _OUTBOX.c.status == "pending",
                _OUTBOX.c.claimed_by == self.worker_id,
                _OUTBOX.c.attempts == bindparam("b_attempts_was"),
            )
            .values({c: bindparam(f"b_{c}") for c in columns})
        )

    def _attempt(self, row: Outbox, outcome: Outcome, recorded: str) -> dict[str, Any]:
        return {
            "outbox_id": row.id or 0,
            "attempt": row.attempts,
            "worker": self.worker_id,
            "finished_at": utcnow(),  # real time, even under a test's clock
            "outcome": recorded,
            "detail": outcome.detail[:2000],
        }

    def settlement(
        self, row: Outbox, outcome: Outcome, started: datetime, spread: float
    ) -> tuple[str, dict[str, Any]]:
        """The row's new state and column values for this outcome (`spread` scales a backoff)."""
        now = self.clock()
        values: dict[str, Any] = {"lease_until": None, "last_error": None}
        state = outcome.state
        if state == "retry" and row.attempts >= row.max_attempts:
            state, values["last_error"] = "dead", f"gave up after {row.attempts} attempts"
            values["last_error"] += f": {outcome.detail}"
        since = waiting_since(row) or started
        if state == "wait" and now - since >= self.give_up_after:
            state = "dead"
            values["last_error"] = f"gave up after waiting since {since:%Y-%m-%d %H:%M} UTC: "
            values["last_error"] += outcome.detail
        if state in ("done", "dead"):
            values |= {"status": state, "done_at": now, "result": outcome.result}
            if state == "dead":
                values["last_error"] = values["last_error"] or outcome.detail
            return state, values
        return state, values | self._next_try(row, outcome, started, since, spread)

    def _next_try(
        self, row: Outbox, outcome: Outcome, started: datetime, since: datetime, spread: float
    ) -> dict[str, Any]:
        """Columns of a row tried again later: when, and why."""
        delay = outcome.delay
        if delay is None:
            delay = backoff(row.attempts, self.backoff_base, spread=spread)
        if outcome.state != "wait":
            return {"due_at": self.clock() + timedelta(seconds=delay), "last_error": outcome.detail}
        # as long as the outage had lasted when this attempt began, halved (capped)
        delay = max(delay, min(WAIT_CAP, (started - since).total_seconds() / 2))
        return {
            "due_at": self.clock() + timedelta(seconds=delay),
            "last_error": WAITING + outcome.detail,
            # An outage is not the row's fault: the attempt is handed back.
            "attempts": row.attempts - 1,
            "result": {"waiting_since": since.isoformat()},
        }

    def gave_up(self, session: Session, row: Outbox, reason: str) -> None:
        """Log a row given up and pass it to the hook, in the same transaction."""
        log.error("outbox row %s (%s, item %s) given up: %s", row.id, row.kind, row.item_id, reason)
        if self.on_give_up is not None:
            self.on_give_up(session, row, reason)


def waiting_since(row: Outbox) -> datetime | None:
    """When the row's current outage began, as recorded by its last `wait`."""
    stamp = (row.result or {}).get("waiting_since")
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
