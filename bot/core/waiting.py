"""Long-poll: wait, without a thread or a database connection, until an item's state moves.

The decision may be taken in another process or replica, so the database is the only truth:
the waiter re-reads the item's (status, write-back state) with a backoff (50 ms growing to
1 s), each read on a short-lived connection run off the event loop. A waiting request holds
neither a worker thread nor a pooled connection, only a coroutine.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from anyio import to_thread
from sqlalchemy import select
from sqlmodel import col

from bot.base.db import Database
from bot.base.errors import TooManyRequests
from models import Item

MAX_WAIT_SECONDS = 60.0
# Concurrent long-polls per agent key, per process: enough for an agent waiting on a batch,
# too few for one key to starve the others of the event loop or of database reads.
MAX_WAITS_PER_KEY = 10
_FIRST_PAUSE, _LONGEST_PAUSE = 0.05, 1.0
State = tuple[str, str] | None


class WaitLimiter:
    """Counts the long-polls in flight per agent key and refuses beyond the bound."""

    def __init__(self, per_key: int = MAX_WAITS_PER_KEY) -> None:
        self.per_key = per_key
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    @contextmanager
    def slot(self, key_id: str) -> Iterator[None]:
        """Hold one of the key's slots for the duration of a wait, or TooManyRequests."""
        with self._lock:
            if self._open.get(key_id, 0) >= self.per_key:
                raise TooManyRequests(
                    f"agent key {key_id} already has {self.per_key} waits open: let one answer "
                    "before opening another, or poll without ?wait",
                    retry_after=int(_LONGEST_PAUSE) + 1,
                )
            self._open[key_id] = self._open.get(key_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._open[key_id] -= 1
                if not self._open[key_id]:
                    del self._open[key_id]

    def open_waits(self, key_id: str) -> int:
        """How many waits this key holds now."""
        with self._lock:
            return self._open.get(key_id, 0)


def item_state(db: Database, item_id: str) -> State:
    """The item's (status, write-back state): one primary-key read, connection returned at once."""
    with db.read() as session:
        row = session.execute(
            select(col(Item.status), col(Item.writeback_state)).where(col(Item.id) == item_id)
        ).first()
    return (row[0], row[1]) if row else None


async def wait_for_change(
    read: Callable[[], State],
    seen: State,
    seconds: float,
    *,
    monotonic: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> State:
    """Re-read until the state differs from `seen` or `seconds` pass; returns the last state."""
    clock = monotonic or asyncio.get_running_loop().time
    deadline = clock() + min(max(seconds, 0.0), MAX_WAIT_SECONDS)
    pause = _FIRST_PAUSE
    state = seen
    while (left := deadline - clock()) > 0:
        await sleep(min(pause, left))
        state = await to_thread.run_sync(read)
        if state != seen:
            break
        pause = min(pause * 1.5, _LONGEST_PAUSE)
    return state
