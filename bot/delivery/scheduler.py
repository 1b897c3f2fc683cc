"""Each process ticks on its own in-memory APScheduler; the database decides who does what.

APScheduler only says "tick now" on an interval; a single worker thread does the work, so a
kick after a commit and the periodic tick coalesce instead of piling up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


class Ticker:
    """Runs `work` every `seconds` and soon after each `kick()`; never two at once."""

    def __init__(
        self, work: Callable[[], object], seconds: float, *, min_gap: float = 0.05
    ) -> None:
        self._work = work
        self._seconds = seconds
        self._min_gap = min_gap
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="airlock-ticker", daemon=True)
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def daily(self, job: Callable[[], object], hour: int) -> None:
        """Also run `job` every day at `hour`:00 UTC (in the scheduler's own thread)."""
        self._scheduler.add_job(
            job,
            "cron",
            hour=hour,
            minute=0,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )

    def every(self, job: Callable[[], object], minutes: int) -> None:
        """Also run `job` every `minutes` (first after one interval), in the scheduler's thread."""
        self._scheduler.add_job(job, "interval", minutes=minutes, coalesce=True, max_instances=1)

    def start(self) -> None:
        """Start the interval and the worker thread."""
        self._scheduler.add_job(
            self.kick,
            "interval",
            seconds=self._seconds,
            id="airlock-tick",
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()
        self._thread.start()
        self.kick()

    def kick(self) -> None:
        """Ask for a tick as soon as the current one (if any) ends."""
        self._wake.set()

    def shutdown(self) -> None:
        """Stop ticking and wait for a running tick to finish."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                log.debug("tick")
                self._work()
            except Exception:
                log.exception("tick failed; the next tick retries")
            # Under load, kicks arrive faster than ticks finish: let work gather into batches.
            self._stop.wait(self._min_gap)
