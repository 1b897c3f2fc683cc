"""Reading the rollups: sums over the buckets of a window, per workflow and agent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select, union_all
from sqlmodel import Session

from bot.core.rollups import STATS, wait_estimate


@dataclass
class Tally:
    """Summed counters of a workflow, or of one agent's share of it: metric -> key -> count."""

    metrics: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Add (metric, key) counts."""
        for (metric, key), n in counts.items():
            self.count(metric, key, n)

    def count(self, metric: str, key: str, n: int) -> None:
        """Add `n` to one counter."""
        self.metrics.setdefault(metric, Counter())[key] += n

    def merge(self, other: Tally) -> None:
        """Add every counter of `other`."""
        for metric, keys in other.metrics.items():
            self.metrics.setdefault(metric, Counter()).update(keys)

    @property
    def counts(self) -> Counter[tuple[str, str]]:
        """Every non-zero counter by (metric, key)."""
        pairs = ((m, k, n) for m, keys in self.metrics.items() for k, n in keys.items())
        return Counter({(m, k): n for m, k, n in pairs if n})

    def of(self, metric: str) -> dict[str, int]:
        """Every non-zero key of one metric."""
        return {k: n for k, n in self.metrics.get(metric, {}).items() if n}

    def get(self, metric: str, key: str = "") -> int:
        """One counter."""
        return self.metrics.get(metric, Counter())[key]

    @property
    def received(self) -> int:
        """Items, whatever their status."""
        return sum(self.of("status").values())

    @property
    def decided(self) -> int:
        """Items a person approved, edited or rejected (each has a decision latency)."""
        return sum(self.of("wait").values())

    def percentile(self, percent: int) -> timedelta | None:
        """The upper `percent` percentile of decision latency, within 4.4% (see rollups)."""
        hist = sorted((int(k), n) for k, n in self.of("wait").items())
        total = sum(n for _, n in hist)
        if not total:
            return None
        rank, seen = min(total - 1, total * percent // 100), 0
        for bucket, n in hist:
            seen += n
            if seen > rank:
                return wait_estimate(bucket)
        raise AssertionError("unreachable: the ranks add up to the total")

    def top_reasons(self, limit: int = 3, unnamed: str | None = None) -> list[tuple[str, int]]:
        """Most frequent reject reasons; a rejection without one is `unnamed` (None: left out)."""
        named = Counter(self.of("reason"))
        if unnamed is None:
            named.pop("", None)
        elif "" in named:
            named[unnamed] += named.pop("")
        return sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def windows(since: datetime | None) -> list[tuple[ColumnElement[bool], int]]:
    """Bucket ranges, each with its sign, covering arrivals from the start of `since`'s hour;
    None: all time.

    Each is a range of the primary key (grain, workflow, bucket, ...) once the workflow is fixed.
    A window that starts within a day reads whichever is fewer buckets: the hours left in that
    day, or the whole day minus its hours before the start (a day's counters are the sum of its
    hours'). So it reads at most 12 hourly buckets, then whole days.
    """
    c = STATS.c
    if since is None:
        return [(c.grain == "t", 1)]
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    if hour == day:
        return [(and_(c.grain == "d", c.bucket >= day), 1)]
    if 24 - hour.hour <= hour.hour + 1:
        next_day = day + timedelta(days=1)
        hours = and_(c.grain == "h", c.bucket >= hour, c.bucket < next_day)
        return [(hours, 1), (and_(c.grain == "d", c.bucket >= next_day), 1)]
    before = and_(c.grain == "h", c.bucket >= day, c.bucket < hour)
    return [(and_(c.grain == "d", c.bucket >= day), 1), (before, -1)]


def tallies(
    session: Session,
    workflows: Iterable[str],
    *,
    since: datetime | None = None,
    metrics: Iterable[str] | None = None,
) -> dict[tuple[str, str], Tally]:
    """Per (workflow, agent): the counters of items that arrived in the window, summed in SQL
    (one row per counter key, whatever the number of buckets)."""
    c, chosen = STATS.c, list(workflows)
    parts = []
    for where, sign in windows(since):
        n = c.n if sign > 0 else -c.n
        part = select(c.workflow_id, c.agent, c.metric, c.key, n.label("n"))
        part = part.where(where, c.workflow_id.in_(chosen))
        if metrics is not None:
            part = part.where(c.metric.in_(list(metrics)))
        parts.append(part)
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(rows.c.workflow_id, rows.c.agent, rows.c.metric, rows.c.key, func.sum(rows.c.n))
    query = query.group_by(rows.c.workflow_id, rows.c.agent, rows.c.metric, rows.c.key)
    found: dict[tuple[str, str], Tally] = {}
    for workflow, agent, metric, key, n in session.execute(query).all():
        if n:
            found.setdefault((workflow, agent), Tally()).count(metric, key, int(n))
    return found


def by_workflow(found: dict[tuple[str, str], Tally]) -> dict[str, Tally]:
    """The agents' tallies added up per workflow."""
    merged: dict[str, Tally] = {}
    for (workflow, _agent), tally in found.items():
        merged.setdefault(workflow, Tally()).merge(tally)
    return merged
