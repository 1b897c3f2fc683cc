"""The Patterns read model sums in SQL: its figures equal those summed in Python from the rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert

from bot.core.rollups import STATS
from bot.core.rollups_read import Tally
from bot.core.runtime import Runtime
from bot.reporting.console_patterns import patterns

TODAY = date(2026, 3, 8)  # any day: the window is given, never read from the clock
METRICS = {"status": ["approved", "edited", "rejected", "pending"], "reason": ["", "tone"]}


class Row(NamedTuple):
    workflow_id: str
    agent: str
    day: date
    metric: str
    key: str
    n: int


def random_counters(seed: int) -> list[Row]:
    """Daily counters of two workflows and agents over 12 days, with sparse latency histograms."""
    draw, rows = random.Random(seed), []
    for offset in range(12):
        day = TODAY - timedelta(days=offset)
        for workflow in ("opp-hygiene", "account-brief"):
            for agent in ("a1", "a2"):
                waits = draw.sample(range(120), draw.randint(0, 9))
                rows += [
                    Row(workflow, agent, day, "wait", str(k), draw.randint(1, 9)) for k in waits
                ]
                rows += [
                    Row(workflow, agent, day, metric, key, draw.randint(0, 5))
                    for metric, keys in METRICS.items()
                    for key in keys
                    if draw.random() < 0.7
                ]
    return rows


def summed(rows: list[Row]) -> Tally:
    found = Tally()
    for row in rows:
        found.count(row.metric, row.key, row.n)
    return found


def test_patterns_sum_in_sql_as_python_would(rt: Runtime) -> None:
    for seed in range(4):
        rows = random_counters(seed)
        with rt.db.write() as session:
            session.execute(STATS.delete())
            session.execute(
                insert(STATS),
                [
                    r._asdict()
                    | {"grain": "d", "bucket": datetime.combine(r.day, datetime.min.time(), UTC)}
                    for r in rows
                ],
            )
        with rt.db.read() as session:
            found = patterns(session, ["opp-hygiene", "account-brief"], 10, TODAY)
        shown = [r for r in rows if r.day > TODAY - timedelta(days=10)]
        for day in found.days:
            expected = summed([r for r in shown if r.day == day.day])
            assert day.median == expected.percentile(50), (seed, day.day)
            assert day.tally.of("status") == expected.of("status")
        whole = summed(shown)
        assert +found.total.counts == +whole.counts
        assert found.total.percentile(90) == whole.percentile(90)
        per_agent: Counter[tuple[str, str, str, str]] = Counter()
        for r in shown:
            if r.metric != "wait":
                per_agent[(r.workflow_id, r.agent, r.metric, r.key)] += r.n
        segments = {
            (w, a, m, k): n
            for (w, a), t in found.segments.items()
            for (m, k), n in t.counts.items()
        }
        assert +Counter(segments) == +per_agent
