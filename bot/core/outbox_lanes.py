"""Delivery lanes: several batches of one kind in flight when a backlog is due.

One batch's time is a network wait (the Salesforce round trips) plus database work before and
after it. With one lane they add up; with several, each batch's round trips overlap the others'
database work, so a backlog drains at close to the network's pace. Each lane claims its own
batch (the claim is atomic: `SKIP LOCKED` on PostgreSQL, the single writer on SQLite), holds its
lease and settles its rows; write-back's per-record order (bot/delivery/writeback_order.py) sees
another lane's claimed rows as pending, so a later write of the same field still waits.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.core.outbox_queue import Route
from models import Outbox

# Batches one lane takes per worker round before handing back (timers and other kinds wait).
LANE_BATCHES = 10


@dataclass(frozen=True)
class Lanes:
    """One kind's route, and how a lane claims a batch of it and delivers that batch."""

    kind: str
    route: Route
    claim: Callable[[str, Route], list[Outbox]]  # [] when nothing is due (or the kind is held)
    deliver: Callable[[str, Route, list[Outbox]], None]

    def lane(self, rounds: int = LANE_BATCHES) -> int:
        """Claim and deliver batches until none is due (at most `rounds`); rows attempted."""
        done = 0
        for _ in range(rounds):
            rows = self.claim(self.kind, self.route)
            if not rows:
                break
            self.deliver(self.kind, self.route, rows)
            done += len(rows)
        return done


def run_lanes(lanes: Lanes, first: list[Outbox], backlog: bool) -> int:
    """Deliver the claimed `first` batch; with a backlog, the route's other lanes claim and
    deliver the next batches meanwhile. Returns how many rows were attempted."""
    if not first:
        return 0
    extra = lanes.route.lanes - 1 if backlog else 0
    if extra <= 0:
        lanes.deliver(lanes.kind, lanes.route, first)
        return len(first)
    with ThreadPoolExecutor(extra, thread_name_prefix=f"outbox-{lanes.kind}") as pool:
        others = [pool.submit(lanes.lane) for _ in range(extra)]
        lanes.deliver(lanes.kind, lanes.route, first)
        done = len(first) + lanes.lane(LANE_BATCHES - 1)
        return done + sum(other.result() for other in others)
