"""Delivery lanes: a backlog is delivered by two batches in flight, each row once, and a later
write of a record's field still waits for an earlier one that another lane is sending."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

from bot.core.outbox import OutboxWorker, Outcome, Route
from bot.core.runtime import Runtime
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Outbox
from tests.test_outbox import fill
from tests.writeback_support import approved, load, record, settle, update_body

OPP = make_id("Opportunity", 1)


class Overlap:
    """A route handler that notes each delivered row and how many batches were in flight."""

    def __init__(self) -> None:
        self.delivered: Counter[int] = Counter()
        self.threads: set[str] = set()
        self.in_flight = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, rows: Sequence[Outbox]) -> dict[int, Outcome]:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.threads.add(threading.current_thread().name)
        time.sleep(0.05)  # the round trip another lane's work overlaps
        with self.lock:
            self.in_flight -= 1
            self.delivered.update(row.payload["n"] for row in rows)
        return {row.id or 0: Outcome.done() for row in rows}


def test_a_backlog_goes_out_in_two_lanes_each_row_once(rt: Runtime) -> None:
    fill(rt, 23)
    handler = Overlap()
    worker = OutboxWorker(rt.db, {"test.effect": Route(handler, batch_size=5, lanes=2)})
    assert worker.run_once() == 23
    assert handler.delivered == Counter(range(23))
    assert handler.most == 2
    assert len(handler.threads) == 2


def test_a_short_claim_is_delivered_alone(rt: Runtime) -> None:
    fill(rt, 3)
    handler = Overlap()
    worker = OutboxWorker(rt.db, {"test.effect": Route(handler, batch_size=5, lanes=2)})
    assert worker.run_once() == 3
    assert handler.threads == {threading.current_thread().name}


def test_a_later_write_in_the_other_lane_waits_for_the_earlier(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    """The earlier approval leads the first batch of 200, the later one is in the second: the
    second lane sees the first lane's claimed row as pending and holds its write until then."""
    older = approved(
        rt, agent_key, update_body(OPP, [{"field": "StageName", "value": "Closed Lost"}])
    )
    for n in range(199):
        other = standin.add("Opportunity", {"Name": f"Filler {n}", "StageName": "Prospecting"})
        approved(rt, agent_key, update_body(other, [{"field": "NextStep", "value": "Call"}]))
    newer = approved(
        rt, agent_key, update_body(OPP, [{"field": "StageName", "value": "Closed Won"}])
    )
    standin.set_delay("composite", 0.3)  # the first lane's PATCH is still out when the second reads
    settle(rt, worker)
    stages = [
        w.fields["StageName"]
        for w in standin.applied_writes("Opportunity")
        if w.fields.get("StageName")
    ]
    assert stages == ["Closed Lost", "Closed Won"]
    assert record(standin, OPP)["StageName"] == "Closed Won"
    assert load(rt, older).writeback_state == load(rt, newer).writeback_state == "written"
