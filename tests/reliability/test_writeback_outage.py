"""1,000 approved updates through an afternoon of trouble on a simulated clock: 503s, timeouts,
lock errors, an expired session, two hours of REQUEST_LIMIT_EXCEEDED and a few values Salesforce
cannot read. Nothing is lost,
nothing is written twice, and only the items at fault fail."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from bot.core.effects import WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Item, Outbox
from models.types import utcnow
from tests.reliability.figures import report
from tests.writeback_support import approved, key_file, sf_client, update_body

NEW_STAGE = "Qualification"
LIMIT_WINDOW = timedelta(hours=2)
WINDOW_FAULTS = 100_000  # more than the window can use: each call in it is refused


class SimulatedClock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now


def due(rt: Runtime, now: datetime) -> int:
    with rt.db.read() as session:
        query = select(func.count()).where(
            col(Outbox.kind) == WRITEBACK,
            col(Outbox.status) == "pending",
            col(Outbox.due_at) <= now,
        )
        return int(session.exec(query).one())


def next_due(rt: Runtime) -> datetime | None:
    with rt.db.read() as session:
        query = select(func.min(Outbox.due_at)).where(
            col(Outbox.kind) == WRITEBACK, col(Outbox.status) == "pending"
        )
        return session.exec(query).one()


def states(rt: Runtime) -> Counter[str]:
    with rt.db.read() as session:
        return Counter(session.exec(select(Item.writeback_state)))


def test_write_thousand_updates_through_outage(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    record_ids = [
        standin.add("Opportunity", {"Name": f"Outage deal {n}", "StageName": "Prospecting"})
        for n in range(1000)
    ]
    change = [{"field": "StageName", "value": NEW_STAGE, "observed": "Prospecting"}]
    # A few items carry a date Salesforce cannot read: it refuses their whole request (HTTP 400,
    # JSON_PARSER_ERROR), and only these items may fail.
    unreadable = set(record_ids[::200])
    bad_date = [{"field": "CloseDate", "value": "next Friday"}]
    for record_id in record_ids:
        approved(
            rt, agent_key, update_body(record_id, bad_date if record_id in unreadable else change)
        )
    clock = SimulatedClock()
    standin.timeout_seconds = 1.2
    client = sf_client(standin, timeout=0.6, jwt_key=key_file(tmp_path))
    worker = OutboxWorker(
        rt.db,
        {WRITEBACK: writeback_route(rt, client)},
        backoff_base=30.0,
        clock=clock,
        on_give_up=GiveUp(rt),
    )
    faults: Counter[str] = Counter()

    # Two hours in which every call is refused for the org's API limit (by every lane).
    window_ends = clock.now + LIMIT_WINDOW
    standin.inject("limit", times=WINDOW_FAULTS, match="*")
    while clock.now < window_ends:
        while due(rt, clock.now) and not worker.holding(WRITEBACK):
            worker.run_once()
        # On to the next moment anything can happen: a row falls due, or the hold ends.
        held, upcoming = worker.held_until.get(WRITEBACK), next_due(rt) or window_ends
        resume = max(held, upcoming) if held and held > clock.now else upcoming
        clock.now = max(clock.now + timedelta(seconds=1), min(resume, window_ends))
    faults["REQUEST_LIMIT_EXCEEDED"] = WINDOW_FAULTS - standin.clear_faults()
    assert states(rt) == Counter({"queued": 1000}), "the limit window spent the budget"
    faults["request-level 400 (unreadable date)"] = len(unreadable)

    # Then the rest of a bad afternoon, while the limit has reset.
    for fault, times, match in [
        ("401", 1, "*"),
        ("503", 3, "composite"),
        ("503", 2, "query"),
        ("timeout", 2, "query"),
        ("lock", 2, "query"),
        ("lock", 2, "composite"),
    ]:
        standin.inject(fault, times=times, match=match)
        faults[fault] += times
    clock.now = max(clock.now, worker.held_until.get(WRITEBACK, clock.now))
    while next_due(rt) is not None:
        if not worker.run_once():
            held = worker.held_until.get(WRITEBACK, clock.now)
            clock.now = max(clock.now, next_due(rt) or clock.now, held)
    client.close()

    applied = Counter(write.id for write in standin.applied_writes("Opportunity"))
    records = standin.records("Opportunity")
    healthy = [r for r in record_ids if r not in unreadable]
    lost = sum(records[r]["StageName"] != NEW_STAGE for r in healthy)
    duplicated = sum(n > 1 for n in applied.values())
    report(
        capsys,
        "1,000 updates through a 2-hour API-limit window and faults",
        operations=standin.api_calls,
        faults_injected=sum(faults.values()),
        limit_refusals=faults["REQUEST_LIMIT_EXCEEDED"],
        simulated_hours=round((clock.now - window_ends + LIMIT_WINDOW).total_seconds() / 3600, 1),
        lost=lost,
        duplicated=duplicated,
        failed=states(rt)["failed"],
    )
    assert (lost, duplicated) == (0, 0)
    assert states(rt) == Counter({"written": 1000 - len(unreadable), "failed": len(unreadable)})
    with rt.db.read() as session:
        failed = session.exec(select(Item).where(col(Item.writeback_state) == "failed")).all()
    assert {i.record_id for i in failed} == unreadable
    assert all("CloseDate" in json.dumps(i.writeback) for i in failed)
    assert all(applied[r] == 0 for r in unreadable)
    with rt.db.read() as session:
        rows = session.exec(select(Outbox.item_id, Outbox.status).where(Outbox.kind == WRITEBACK))
        given_up = {item_id for item_id, status in rows if status != "done"}
    assert given_up == {i.id for i in failed}, "only the faulty items' rows are given up"
