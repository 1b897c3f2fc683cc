"""Each process ticks on its own in-memory APScheduler; the database decides who does what."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)
TICK_JOB = "airlock-tick"


class Ticker:
    """Runs `work` every `seconds`, and at once when kicked (coalesced, never overlapping)."""

    def __init__(self, work: Callable[[], object], seconds: float) -> None:
        self._work = work
        self._seconds = seconds
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        """Start ticking."""
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self._seconds,
            id=TICK_JOB,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()

    def kick(self) -> None:
        """Run the next tick now instead of waiting for the interval."""
        try:
            self._scheduler.modify_job(TICK_JOB, next_run_time=datetime.now(UTC))
        except JobLookupError:
            log.debug("kick before start or after shutdown ignored")

    def shutdown(self) -> None:
        """Stop ticking and wait for a running tick to finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _tick(self) -> None:
        with self._lock:
            try:
                self._work()
            except Exception:
                log.exception("tick failed; the next tick retries")
