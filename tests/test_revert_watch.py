"""Reverts as feedback: a person's later change to a field Airlock wrote is recorded `reverted`
(who, when, new value); Airlock's own writes, untouched fields and old writes are not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.delivery import revert_watch
from bot.reporting import queries
from bot.salesforce.client import SalesforceClient
from bot.sandbox.salesforce_seed import SEED_PEOPLE, make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.slack.blocks_home import stats_text
from models import AgentEvent, Event
from models.types import utcnow
from tests.writeback_support import approved, load, settle, update_body

OPP = make_id("Opportunity", 1)
STAGE: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}
]
REP = SEED_PEOPLE[1].salesforce_id


def _written(rt: Runtime, agent_key: str, worker: OutboxWorker) -> str:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker)
    assert load(rt, item_id).writeback_state == "written"
    return item_id


def test_rep_change_recorded_as_revert_and_counted(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    client: SalesforceClient,
    worker: OutboxWorker,
) -> None:
    item_id = _written(rt, agent_key, worker)
    assert revert_watch.sweep(rt, client, utcnow()) == 0  # Airlock's own write is no revert
    standin.set_field("Opportunity", OPP, "StageName", "Closed Lost", by=REP)

    assert revert_watch.sweep(rt, client, utcnow()) == 1
    assert load(rt, item_id).writeback_state == "reverted"
    with rt.db.read() as session:
        event = session.exec(
            select(Event).where(col(Event.item_id) == item_id, Event.type == "writeback_reverted")
        ).one()
        published = session.exec(select(AgentEvent.type).where(AgentEvent.item_id == item_id))
        assert "item.reverted" in list(published)
    assert event.data["by"] == "salesforce" and event.data["who"] == REP
    assert event.data["when"] == (standin.get("Opportunity", OPP) or {})["LastModifiedDate"]
    assert event.data["changed"] == [
        {"field": "StageName", "wrote": "Negotiation/Review", "now": "Closed Lost"}
    ]
    stats = queries.stats(rt, "opp-hygiene")
    assert stats.reverted == 1
    assert "1 written and then reverted" in stats_text([stats])
    assert revert_watch.sweep(rt, client, utcnow()) == 0  # recorded once


def test_change_by_integration_user_or_after_window_not_a_revert(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    client: SalesforceClient,
    worker: OutboxWorker,
) -> None:
    item_id = _written(rt, agent_key, worker)
    standin.set_field(
        "Opportunity", OPP, "StageName", "Closed Won", by=SEED_PEOPLE[0].salesforce_id
    )
    assert revert_watch.sweep(rt, client, utcnow()) == 0
    standin.set_field("Opportunity", OPP, "StageName", "Closed Lost", by=REP)
    assert revert_watch.sweep(rt, client, utcnow() + timedelta(days=15)) == 0  # window is 14d
    assert load(rt, item_id).writeback_state == "written"
    assert revert_watch.sweep(rt, client, utcnow() + timedelta(days=13)) == 1
