"""Keeps an outbox claim alive while its handler works: the lease is renewed on a heartbeat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import update
from sqlmodel import col

from bot.base.db import Database
from models import Outbox

log = logging.getLogger(__name__)


class LeaseKeeper:
    """While open, pushes `lease_until` of the claimed rows forward every third of a lease.

    The renewal is a compare-and-set on the holder (`claimed_by`, `attempts`): a row that another
    worker took over after an expired lease is left alone, and this worker's late `finish` fails
    the same test, so a row is settled by one worker only.
    """

    def __init__(
        self,
        db: Database,
        worker_id: str,
        rows: Sequence[Outbox],
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.db, self.worker_id, self.lease, self.clock = db, worker_id, lease, clock
        self.held = {row.id or 0: row.attempts for row in rows}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="outbox-lease", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        interval = max(0.01, self.lease.total_seconds() / 3)
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception:  # a missed beat must not kill the delivery; the next one retries
                log.exception("outbox lease renewal failed")

    def renew(self) -> int:
        """Extend the lease of every row still held; returns how many were."""
        renewed = 0
        until = self.clock() + self.lease
        with self.db.write() as session:
            for row_id, attempts in sorted(self.held.items()):  # id order, as settling locks
                result = session.execute(
                    update(Outbox)
                    .where(
                        col(Outbox.id) == row_id,
                        col(Outbox.status) == "pending",
                        col(Outbox.claimed_by) == self.worker_id,
                        col(Outbox.attempts) == attempts,
                    )
                    .values(lease_until=until)
                )
                renewed += result.rowcount  # type: ignore[attr-defined]
        return renewed
