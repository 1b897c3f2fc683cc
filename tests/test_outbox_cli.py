"""Give-up and requeue: a write that outlasted its deadline is `failed` on the item, the owner is
told once, `airlock outbox` lists it and `airlock outbox retry` sends it again (audited)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.core.effects import NOTIFY, WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import Runtime
from bot.delivery.writeback import writeback_route
from bot.salesforce.client import SalesforceClient
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Event, Outbox
from tests.writeback_support import approved, load, settle, sf_client, update_body, write_row

STAGE = [{"field": "StageName", "value": "Negotiation/Review"}]


@pytest.fixture
def client(standin: SalesforceStandin) -> Iterator[SalesforceClient]:
    client = sf_client(standin)
    yield client
    client.close()


def cli(rt: Runtime, *args: str) -> str:
    env = {"DATABASE_URL": rt.settings.database_url}
    env["AIRLOCK_WORKFLOWS"] = str(rt.settings.workflows_dir)
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def worker(rt: Runtime, client: SalesforceClient, give_up_after: timedelta) -> OutboxWorker:
    routes = {WRITEBACK: writeback_route(rt, client)}
    return OutboxWorker(
        rt.db, routes, backoff_base=0.0, give_up_after=give_up_after, on_give_up=GiveUp(rt)
    )


def owner_notices(rt: Runtime) -> list[str]:
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    return [r.payload["text"] for r in rows if r.payload.get("reason") == "outbox_gave_up"]


def test_give_up_write_after_deadline_then_requeue(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    client: SalesforceClient,
) -> None:
    record_id = standin.add("Opportunity", {"Name": "Acme", "StageName": "Prospecting"})
    item_id = approved(rt, agent_key, update_body(record_id, STAGE))
    standin.inject("503", times=10)
    # An outage outlasting the deadline (zero here): the first wait is already too long.
    worker(rt, client, timedelta(0)).run_once()
    item = load(rt, item_id)
    assert item.writeback_state == "failed"
    assert "gave up after waiting since" in (item.writeback or {})["error"]
    assert write_row(rt, item_id).status == "dead"
    assert len(owner_notices(rt)) == 1 and item_id in owner_notices(rt)[0]

    listed = cli(rt, "outbox")
    assert "salesforce.write: 0 stuck, 1 dead" in listed and item_id in listed
    assert cli(rt, "outbox", "list") == listed

    assert "1 row(s) requeued" in cli(rt, "outbox", "retry", "--kind", WRITEBACK)
    assert load(rt, item_id).writeback_state == "queued"
    with rt.db.read() as session:
        events = session.exec(select(Event).where(col(Event.item_id) == item_id)).all()
    requeued = [e for e in events if e.type == "outbox_requeued"]
    assert len(requeued) == 1 and requeued[0].actor.startswith("cli")

    # the rest of the outage (9 more 503s) is waited out without spending attempts
    settle(rt, worker(rt, client, timedelta(days=3)))
    assert (load(rt, item_id).writeback_state, write_row(rt, item_id).status) == (
        "written",
        "done",
    )
    assert "nothing stuck or dead" in cli(rt, "outbox")


def test_retry_only_the_named_item(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    items = []
    for n in range(2):
        record_id = standin.add("Opportunity", {"Name": f"Deal {n}", "StageName": "Prospecting"})
        items.append(approved(rt, agent_key, update_body(record_id, STAGE)))
    standin.inject("503", times=10)
    worker(rt, client, timedelta(0)).run_once()
    assert "1 row(s) requeued" in cli(rt, "outbox", "retry", "--item", items[1])
    assert [load(rt, i).writeback_state for i in items] == ["failed", "queued"]
