"""The console's patterns: per-day series and window totals, read from the rollups.

Daily rows of stat_count (grain `d`) count the items that arrived that day by their current facts,
so a series over N days reads N rows per fact and workflow, whatever the number of items.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from bot.core.rollups import STATS, wait_estimate
from bot.core.rollups_read import Tally

DECIDED = ("approved", "edited", "rejected")
TROUBLE = ("conflict", "failed", "reverted")


@dataclass
class Day:
    """One day's arrivals, by what became of them."""

    day: date
    tally: Tally = field(default_factory=Tally)
    median: timedelta | None = None  # of the time to decision of the day's decided items

    @property
    def received(self) -> int:
        """Items that arrived that day."""
        return self.tally.received

    def rate(self, status: str) -> float | None:
        """Share of that day's decided items with this status."""
        status_counts = self.tally.of("status")
        decided = sum(status_counts.get(s, 0) for s in DECIDED)
        return status_counts.get(status, 0) / decided if decided else None


@dataclass(frozen=True)
class Patterns:
    """What the Patterns page draws for a set of workflows and a window of days."""

    days: list[Day]
    total: Tally
    segments: dict[tuple[str, str], Tally]  # (workflow, agent) over the window

    def series(self, pick: str) -> list[tuple[date, float | None]]:
        """`received`, a status's rate, or a write-back state's count, one point per day."""
        if pick == "received":
            return [(d.day, float(d.received)) for d in self.days]
        if pick in DECIDED:
            return [(d.day, d.rate(pick)) for d in self.days]
        return [(d.day, float(d.tally.get("writeback", pick))) for d in self.days]

    def median_wait(self) -> list[tuple[date, float | None]]:
        """Median minutes to decision of each day's arrivals (None: nothing decided)."""
        return [(d.day, d.median.total_seconds() / 60 if d.median else None) for d in self.days]


def patterns(session: Session, workflows: list[str], days: int, today: date) -> Patterns:
    """Daily tallies for the last `days` days up to `today`, and the window's total.

    Every sum is taken in SQL, so Python sees a few rows per day and per (workflow, agent), not the
    tens of thousands of counter rows a long window holds: the latency histogram (up to ~300 keys a
    day per workflow and agent) comes back as one median per day and one histogram for the window.
    """
    first = today - timedelta(days=days - 1)
    c = STATS.c
    window = (
        c.grain == "d",
        c.workflow_id.in_(workflows),
        c.bucket >= datetime(first.year, first.month, first.day, tzinfo=UTC),
    )
    per_day: dict[date, Tally] = defaultdict(Tally)
    for (bucket,), counts in _sums(session, window, c.bucket):
        per_day[_day(bucket)].add(counts)
    segments: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for (workflow, agent), counts in _sums(session, window, c.workflow_id, c.agent):
        segments[(workflow, agent)].add(counts)
    total = Tally()
    for _, counts in _sums(session, window, waits=True):
        total.add(counts)
    medians = {_day(day): wait_estimate(int(k)) for day, k in daily_medians(session, window)}
    series = [
        Day(day, per_day.get(day, Tally()), medians.get(day))
        for day in (first + timedelta(days=i) for i in range(days))
    ]
    return Patterns(series, total, dict(segments))


def _sums(
    session: Session, window: tuple[Any, ...], *by: Any, waits: bool = False
) -> list[tuple[tuple[Any, ...], Counter[tuple[str, str]]]]:
    """The window's counters summed per `by` (and metric and key), the histogram only if asked."""
    c = STATS.c
    query = select(*by, c.metric, c.key, func.sum(c.n)).where(*window)
    if not waits:
        query = query.where(c.metric != "wait")
    found: dict[tuple[Any, ...], Counter[tuple[str, str]]] = defaultdict(Counter)
    for *group, metric, key, n in session.execute(query.group_by(*by, c.metric, c.key)):
        found[tuple(group)][(metric, key)] += int(n)  # PostgreSQL sums to Decimal
    return list(found.items())


def daily_medians(session: Session, window: tuple[Any, ...]) -> list[tuple[datetime, str]]:
    """Per day, the latency bucket holding the median decision (as Tally.percentile(50) picks it:
    the first bucket whose running count passes half of the day's decisions), found in SQL."""
    c = STATS.c
    key = cast(c.key, Integer)
    hist = (
        select(c.bucket.label("day"), key.label("k"), func.sum(c.n).label("n"))
        .where(*window, c.metric == "wait")
        .group_by(c.bucket, key)
        .subquery()
    )
    running = select(
        hist.c.day,
        hist.c.k,
        func.sum(hist.c.n).over(partition_by=hist.c.day, order_by=hist.c.k).label("upto"),
        func.sum(hist.c.n).over(partition_by=hist.c.day).label("all"),
    ).subquery()
    # rank = all // 2 and the first bucket with upto > rank: for whole numbers, 2 * upto > all.
    found = select(running.c.day, func.min(running.c.k)).where(2 * running.c.upto > running.c.all)
    return [(day, str(k)) for day, k in session.execute(found.group_by(running.c.day))]


def _day(bucket: datetime) -> date:
    return bucket.astimezone(UTC).date() if bucket.tzinfo else bucket.date()
