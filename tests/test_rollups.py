"""The rollup counters equal a recount from the item rows after any history, on both databases,
and `airlock db rebuild-stats` restores them after they were damaged."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlmodel import SQLModel, col

from bot.base.errors import AirlockError
from bot.base.levels import Status
from bot.core import control, decisions, keys, lifecycle
from bot.core.rollups import COLUMNS, FACT_COLUMNS, STATS, Key, recount
from bot.core.rollups_read import Tally, by_workflow, tallies
from bot.core.rollups_rebuild import rebuild_all
from bot.core.runtime import Runtime
from bot.reporting import queries
from bot.reporting.report import report_rows
from models import Item
from tests import payloads
from tests.test_lifecycle import assign, post

WF, ADMIN, REP = "opp-hygiene", "U0ADMIN", "U0MAYA"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SERIAL = itertools.count()  # idempotency keys unique across examples sharing one database
REASONS = ["inaccurate", "wrong_record", "tone"]
STEPS = st.sampled_from(
    ["intake", "intake", "escalate", "approve", "edit", "reject", "expire", "write", "pause"]
)


def stored(rt: Runtime) -> Counter[Key]:
    """The counters as the database holds them (zeros left out: a rebuild stores none)."""
    with rt.db.read() as session:
        rows = session.execute(select(STATS)).all()
    return Counter({tuple(getattr(r, c) for c in COLUMNS): r.n for r in rows if r.n})


def counted(rt: Runtime) -> Counter[Key]:
    """The counters recounted from every item row."""
    with rt.db.read() as session:
        items = SQLModel.metadata.tables["item"]
        rows = [r._mapping for r in session.execute(select(*(items.c[c] for c in FACT_COLUMNS)))]
    return recount(rows)


def _pending(rt: Runtime, status: str = "pending", **where: object) -> str | None:
    query = select(col(Item.id)).where(col(Item.status) == status)
    for name, value in where.items():
        query = query.where(col(getattr(Item, name)) == value)
    with rt.db.read() as session:
        found = session.execute(query.order_by(col(Item.id)).limit(1)).first()
    return str(found[0]) if found else None


def assert_read_models_agree(rt: Runtime) -> None:
    """Stats, the status gauge and the report say what the rows say."""
    with rt.db.read() as session:
        rows = session.execute(select(col(Item.workflow_id), col(Item.status))).all()
    by_status = Counter(status for _wf, status in rows)
    assert queries.status_totals(rt) == dict(by_status)
    mine = Counter(status for wf, status in rows if wf == WF)
    got = queries.stats(rt, WF)
    assert (got.received, got.approved, got.rejected, got.pending) == (
        sum(mine.values()),
        mine["approved"],
        mine["rejected"],
        mine["pending"],
    )
    row = next(r for r in report_rows(rt) if r.workflow == WF and r.segment == "all agents")
    assert (row.received, row.decided) == (got.received, got.decided)
    for since in WINDOWS:
        assert_window_agrees(rt, since)


# Window starts: midnight (whole days), early in a day (its whole day minus the hours before),
# late in a day (the hours left in it), within an hour (the window starts at the hour), noon,
# and after the last arrival.
WINDOWS = [
    START + timedelta(days=1, hours=-9),
    START + timedelta(hours=2),
    START + timedelta(days=2, hours=5),
    START + timedelta(days=3, hours=-3, minutes=-20),
    START + timedelta(days=1, hours=3),  # 12:00, where the two ways cost 12 and 13 buckets
    START + timedelta(days=400),  # after every arrival: nothing
]


def assert_window_agrees(rt: Runtime, since: datetime) -> None:
    """The counters summed over a window's buckets equal a recount of the items that arrived
    from the start of `since`'s hour, and the windowed report says the same."""
    hour = since.replace(minute=0, second=0, microsecond=0)
    items = SQLModel.metadata.tables["item"]
    query = select(*(items.c[c] for c in FACT_COLUMNS)).where(items.c.created_at >= hour)
    with rt.db.read() as session:
        rows = [r._mapping for r in session.execute(query)]
        found = by_workflow(tallies(session, [WF], since=since)).get(WF, Tally())
    expected: Counter[tuple[str, str]] = Counter()
    for (workflow, grain, _bucket, _agent, metric, key), n in recount(rows).items():
        if workflow == WF and grain == "t":
            expected[(metric, key)] += n
    assert found.counts == +expected, since
    row = next(r for r in report_rows(rt, since) if r.workflow == WF and r.segment == "all agents")
    assert (row.received, row.decided) == (found.received, found.decided), since


class History:
    """Drives one random history through the runtime's real entry points."""

    def __init__(self, rt: Runtime, keys_: list[str]) -> None:
        self.rt, self.keys = rt, keys_

    def step(self, name: str, pick: int) -> None:
        # Refusals (a paused workflow, a lost race) are part of any history.
        with contextlib.suppress(AirlockError):
            getattr(self, name)(pick)

    def intake(self, pick: int) -> None:
        # Arrivals spread over hours and days, so every grain gets several buckets.
        self.rt.clock = lambda: START + timedelta(minutes=97 * pick)
        body = (payloads.task if pick % 3 == 0 else payloads.field_update)(
            idempotency_key=f"r{next(SERIAL)}"
        )
        item_id = post(self.rt, self.keys[pick % len(self.keys)], body)
        if pick % 4:
            assign(self.rt, item_id, REP)

    def approve(self, pick: int) -> None:
        if item_id := _pending(self.rt, assignee=REP):
            decisions.approve(self.rt, item_id, REP)

    def edit(self, pick: int) -> None:
        if item_id := _pending(self.rt, assignee=REP, kind="field_update"):
            decisions.edit(self.rt, item_id, REP, {"StageName": "Value Proposition"})

    def reject(self, pick: int) -> None:
        if item_id := _pending(self.rt, assignee=REP):
            decisions.reject(self.rt, item_id, REP, REASONS[pick % 3], "no")

    def expire(self, pick: int) -> None:
        if item_id := _pending(self.rt):
            with self.rt.db.write() as session:
                lifecycle.transition(
                    session, item_id, Status.EXPIRED, actor="system", decision={"verdict": "x"}
                )

    def escalate(self, pick: int) -> None:
        if item_id := _pending(self.rt, escalated=False):
            with self.rt.db.write() as session:
                lifecycle.update_item_if(
                    session,
                    item_id,
                    {"escalated": False},
                    actor="system",
                    event="escalated",
                    data={},
                    escalated=True,
                )

    def write(self, pick: int) -> None:
        """A write-back settles (written, conflict, failed), or a failed one is retried."""
        state = ["written", "conflict", "failed", "queued"][pick % 4]
        was = "failed" if state == "queued" else "queued"
        if item_id := _pending(self.rt, status="approved", writeback_state=was):
            with self.rt.db.write() as session:
                lifecycle.update_item(
                    session,
                    item_id,
                    actor="system",
                    event=f"writeback_{state}",
                    data={},
                    writeback_state=state,
                )

    def pause(self, pick: int) -> None:
        """Pause (new items are held), or resume (held items are released and judged again)."""
        if not control.pause(self.rt, WF, ADMIN, "test"):
            control.resume(self.rt, WF, ADMIN)


def _second_key(rt: Runtime) -> str:
    with rt.db.write() as session:
        _row, secret = keys.create_key(session, agent="other-agent", workflows=["*"])
    return secret


def test_rollups_equal_recount_after_random_history(rt: Runtime, agent_key: str) -> None:
    history = History(rt, [agent_key, _second_key(rt)])
    # A fixed tour first, so every kind of counter exists before the random histories move them.
    tour = ["intake"] * 6 + ["escalate", "approve", "reject", "write", "expire", "pause", "intake"]
    for n, name in enumerate([*tour, "pause"]):
        history.step(name, n * 41 + 1)
    metrics = {k[4] for k in stored(rt)}
    assert metrics == {"status", "writeback", "escalated", "reason", "wait"}

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,  # the same histories on every run: the coverage check below holds
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(st.tuples(STEPS, st.integers(0, 400)), min_size=1, max_size=14))
    def run(steps: list[tuple[str, int]]) -> None:
        for name, pick in steps:
            history.step(name, pick)
        assert stored(rt) == counted(rt)
        assert_read_models_agree(rt)

    run()


def test_rebuild_stats_restores_damaged_counters(rt: Runtime, agent_key: str) -> None:
    history = History(rt, [agent_key])
    for n, name in enumerate(["intake"] * 6 + ["approve", "reject", "write", "escalate"]):
        history.step(name, n * 37)
    good = stored(rt)
    assert good == counted(rt) and good
    with rt.db.write() as session:
        session.execute(update(STATS).where(STATS.c.metric == "status").values(n=STATS.c.n + 5))
        session.execute(delete(STATS).where(STATS.c.metric == "reason"))
    assert stored(rt) != good
    assert rebuild_all(rt.db) == 6
    assert stored(rt) == good
    assert rebuild_all(rt.db) == 6 and stored(rt) == good  # idempotent


def test_concurrent_decisions_lose_no_count(rt: Runtime, agent_key: str) -> None:
    items = [post(rt, agent_key, payloads.field_update(idempotency_key=f"c{n}")) for n in range(24)]
    for item_id in items:
        assign(rt, item_id, REP)
    barrier = threading.Barrier(8)

    def decide(part: list[str]) -> None:
        barrier.wait()
        for n, item_id in enumerate(part):
            if n % 2:
                decisions.reject(rt, item_id, REP, "tone")
            else:
                decisions.approve(rt, item_id, REP)

    threads = [threading.Thread(target=decide, args=(items[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stored(rt) == counted(rt)
    totals = {k[5]: n for k, n in stored(rt).items() if k[1] == "t" and k[4] == "status"}
    assert totals == {"approved": 16, "rejected": 8}


def test_cli_rebuild_stats(rt: Runtime, agent_key: str) -> None:
    import os
    import subprocess
    import sys

    History(rt, [agent_key]).step("intake", 3)
    with rt.db.write() as session:
        session.execute(delete(STATS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SALESFORCE_"))}
    env |= {"DATABASE_URL": rt.settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "rebuild-stats"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "from 1 items" in done.stdout and stored(rt) == counted(rt) != Counter()
