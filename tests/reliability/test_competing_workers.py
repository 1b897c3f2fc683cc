"""Two workers on one database while every delivery is slower than the lease: leases are renewed
while the work goes on, so every Task and every review card is created exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from bot.core import decisions
from bot.core.effects import CARD, WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.slack_standin import SlackStandin
from bot.slack.client import make_client
from bot.slack.delivery import CardRoute
from models import Outbox
from tests import payloads
from tests.card_support import REVIEWER, TOKEN, FixedReviewer, cards_per_item, pending_items
from tests.reliability.figures import report
from tests.test_lifecycle import assign
from tests.writeback_support import post, sf_client

LEASE = timedelta(seconds=1.0)
SLOW = 0.3  # seconds per call: a 10-card or 10-task batch takes three leases


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as running:
        yield running


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandin]:
    with SalesforceStandin() as running:
        yield running


def unsettled(rt: Runtime) -> int:
    with rt.db.read() as session:
        query = select(func.count()).where(
            col(Outbox.kind).in_([CARD, WRITEBACK]), col(Outbox.status) == "pending"
        )
        return int(session.exec(query).one())


def test_deliver_once_with_two_workers_slower_than_lease(
    rt: Runtime,
    agent_key: str,
    slack: SlackStandin,
    salesforce: SalesforceStandin,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tasks = []
    for n in range(10):
        record_id = salesforce.add(
            "Opportunity", {"Name": f"Task deal {n}", "StageName": "Prospecting"}
        )
        body = payloads.task(
            record={"sobject": "Opportunity", "id": record_id},
            assignee=REVIEWER,
            idempotency_key=f"task-{n}",
        )
        tasks.append(post(rt, agent_key, body))
    for item_id in tasks:
        assign(rt, item_id, REVIEWER)  # the agent's assignee decides only once routed
        decisions.approve(rt, item_id, REVIEWER)
    cards = pending_items(rt, agent_key, 10, prefix="slow")
    slack.set_delay("chat.postMessage", SLOW)
    salesforce.set_delay("sobjects", SLOW)

    def work(name: str) -> None:
        client = sf_client(salesforce, timeout=10)
        routes = {
            CARD: CardRoute(rt, make_client(TOKEN, slack.base_url), FixedReviewer()).route(),
            WRITEBACK: writeback_route(rt, client),
        }
        worker = OutboxWorker(
            rt.db, routes, worker_id=name, lease=LEASE, backoff_base=0.05, on_give_up=GiveUp(rt)
        )
        deadline = time.monotonic() + 60
        while unsettled(rt) and time.monotonic() < deadline:
            if not worker.run_once():
                time.sleep(0.05)
        client.close()

    began = time.monotonic()
    threads = [threading.Thread(target=work, args=(f"replica-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began

    subjects = [str(t.get("Subject")) for t in salesforce.records("Task").values()]
    per_task = Counter(i for i in tasks for s in subjects if f"[airlock:{i}]" in s)
    per_card = cards_per_item(slack, [i for i in cards + tasks])
    operations = len(slack.calls_to("chat.postMessage")) + len(subjects)
    lost = sum(per_task[i] == 0 for i in tasks) + sum(per_card[i] == 0 for i in cards)
    duplicated = sum(n > 1 for n in per_task.values()) + sum(n > 1 for n in per_card.values())
    report(
        capsys,
        "two workers, deliveries slower than the lease",
        operations=operations,
        lease_s=LEASE.total_seconds(),
        call_s=SLOW,
        elapsed_s=round(elapsed, 1),
        lost=lost,
        duplicated=duplicated,
    )
    assert (lost, duplicated) == (0, 0)
    assert unsettled(rt) == 0
