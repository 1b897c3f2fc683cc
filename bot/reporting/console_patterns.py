"""The console's patterns: per-day series and window totals, read from the rollups.

Daily rows of stat_count (grain `d`) count the items that arrived that day by their current facts,
so a series over N days reads N rows per fact and workflow, whatever the number of items.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session

from bot.core.rollups import STATS
from bot.core.rollups_read import Tally

DECIDED = ("approved", "edited", "rejected")
TROUBLE = ("conflict", "failed", "reverted")


@dataclass
class Day:
    """One day's arrivals, by what became of them."""

    day: date
    tally: Tally = field(default_factory=Tally)

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
        """Median time to decision per day of arrival, in minutes."""
        found = []
        for d in self.days:
            median = d.tally.percentile(50)
            found.append((d.day, median.total_seconds() / 60 if median else None))
        return found


def patterns(session: Session, workflows: list[str], days: int, today: date) -> Patterns:
    """Daily tallies for the last `days` days up to `today`, and the window's total."""
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    c = STATS.c
    window = (c.grain == "d", c.workflow_id.in_(workflows), c.bucket >= start)
    # The latency histogram has up to ~200 keys a day per workflow and agent: summed over them
    # in SQL, so Python sees one row per day and key; the segments leave it out.
    waits = (
        select(c.bucket, c.metric, c.key, func.sum(c.n))
        .where(*window, c.metric == "wait")
        .group_by(c.bucket, c.metric, c.key)
    )
    others = (
        select(c.bucket, c.metric, c.key, func.sum(c.n), c.workflow_id, c.agent)
        .where(*window, c.metric != "wait")
        .group_by(c.bucket, c.workflow_id, c.agent, c.metric, c.key)
    )
    # Tens of thousands of rows for a long window: nothing is built per row that is not needed.
    per_bucket: dict[datetime, Counter[tuple[str, str]]] = defaultdict(Counter)
    segments: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for query in (waits, others):
        for bucket, metric, key, n, *segment in session.execute(query):
            per_bucket[bucket][(metric, key)] += int(n)  # PostgreSQL sums to Decimal
            if segment:
                segments[(segment[0], segment[1])].counts[(metric, key)] += int(n)
    per_day = {_day(bucket): counts for bucket, counts in per_bucket.items()}
    series = [
        Day(first + timedelta(days=i), Tally(per_day.get(first + timedelta(days=i), Counter())))
        for i in range(days)
    ]
    total = Tally()
    for day in series:
        total.counts.update(day.tally.counts)
    return Patterns(series, total, dict(segments))


def _day(bucket: datetime) -> date:
    return bucket.astimezone(UTC).date() if bucket.tzinfo else bucket.date()
