"""Reading the rollups: sums over the buckets of a window, per workflow and agent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlmodel import Session

from bot.core.rollups import STATS, wait_estimate


@dataclass
class Tally:
    """Summed counters of a workflow, or of one agent's share of it."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def of(self, metric: str) -> dict[str, int]:
        """Every non-zero key of one metric."""
        return {k: n for (m, k), n in self.counts.items() if m == metric and n}

    def get(self, metric: str, key: str = "") -> int:
        """One counter."""
        return self.counts[(metric, key)]

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


def windows(since: datetime | None) -> list[ColumnElement[bool]]:
    """Bucket ranges covering arrivals from the start of `since`'s hour; None: all time.

    Each is a range of the primary key (grain, workflow, bucket, ...) once the workflow is fixed:
    hours up to the first whole day, then whole days.
    """
    if since is None:
        return [STATS.c.grain == "t"]
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    whole_days = day if day == hour else day + timedelta(days=1)
    hours = and_(STATS.c.grain == "h", STATS.c.bucket >= hour, STATS.c.bucket < whole_days)
    return [hours, and_(STATS.c.grain == "d", STATS.c.bucket >= whole_days)]


def tallies(
    session: Session,
    workflows: Iterable[str],
    *,
    since: datetime | None = None,
    metrics: Iterable[str] | None = None,
) -> dict[tuple[str, str], Tally]:
    """Per (workflow, agent): the counters of items that arrived in the window."""
    c, found = STATS.c, dict[tuple[str, str], Tally]()
    for part in windows(since):
        query = select(c.workflow_id, c.agent, c.metric, c.key, func.sum(c.n))
        query = query.where(part, c.workflow_id.in_(list(workflows)))
        if metrics is not None:
            query = query.where(c.metric.in_(list(metrics)))
        query = query.group_by(c.workflow_id, c.agent, c.metric, c.key)
        for workflow, agent, metric, key, n in session.execute(query):
            found.setdefault((workflow, agent), Tally()).counts[(metric, key)] += int(n)
    return found


def by_workflow(found: dict[tuple[str, str], Tally]) -> dict[str, Tally]:
    """The agents' tallies added up per workflow."""
    merged: dict[str, Tally] = {}
    for (workflow, _agent), tally in found.items():
        merged.setdefault(workflow, Tally()).counts.update(tally.counts)
    return merged
