"""`/airlock revert` and `airlock revert`: prior values written back, conflicts left alone, rights
and the window enforced, the Task closed or deleted, and the revert published to agents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.base.errors import Conflict
from bot.cli import app as cli_app
from bot.core.decisions import NotPermitted
from bot.core.undo import request_undo
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.service import Service
from models import AgentEvent, Event, Item
from models.types import utcnow
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for
from tests.writeback_support import REVIEWER, approved, load, update_body

OPP = make_id("Opportunity", 1)  # seeded: StageName "Proposal/Price Quote", Amount 84000
CHANGES: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"},
    {"field": "Amount", "value": 90000, "observed": 84000},
]
ADMIN, STRANGER = "U0ADMIN", "U0STRANGER"


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


@pytest.fixture
def org(service: Service) -> SalesforceStandin:
    standin = service.integrations.sandbox.salesforce
    assert standin is not None
    return standin


def _written(service: Service, agent_key: str, body: dict[str, Any] | None = None) -> str:
    item_id = approved(service.rt, agent_key, body or update_body(OPP, CHANGES))

    def written() -> bool:
        service.worker.drain(max_rounds=10)
        return load(service.rt, item_id).writeback_state == "written"

    wait_for(written)
    return item_id


def _reverted(service: Service, item_id: str) -> Item:
    """Drain the outbox until the undo is recorded (the live ticker may be delivering it too)."""

    def done() -> Item | None:
        service.worker.drain(max_rounds=10)
        item = load(service.rt, item_id)
        return item if item.writeback_state == "reverted" else None

    found: Item = wait_for(done)
    return found


def _opp(org: SalesforceStandin) -> dict[str, Any]:
    found = org.get("Opportunity", OPP)
    assert found is not None
    return found


def _told(service: Service, slack: SlackDriver, user: str) -> str:
    """The DM telling `user` what the undo did."""

    def told() -> list[str]:
        service.worker.drain(max_rounds=10)
        return [m.text for m in slack.slack.messages_for(user) if "Reverted" in m.text]

    texts: list[str] = wait_for(told)
    return texts[-1]


def test_revert_restores_prior_values(
    service: Service, slack: SlackDriver, org: SalesforceStandin, agent_key: str
) -> None:
    item_id = _written(service, agent_key)
    assert _opp(org)["StageName"] == "Negotiation/Review"

    answer = slack.said(REVIEWER, f"revert {item_id} wrong quarter")
    assert f"Reverting {item_id}" in answer["text"]
    _reverted(service, item_id)

    assert (_opp(org)["StageName"], _opp(org)["Amount"]) == ("Proposal/Price Quote", 84000)
    item = load(service.rt, item_id)
    assert item.writeback_state == "reverted"
    with service.rt.db.read() as session:
        event = session.exec(
            select(Event).where(col(Event.item_id) == item_id, Event.type == "writeback_reverted")
        ).one()
        published = session.exec(select(AgentEvent).where(col(AgentEvent.item_id) == item_id)).all()
    assert event.data["by"] == "undo" and event.data["who"] == REVIEWER
    assert event.data["reason"] == "wrong quarter" and event.data["kept"] == []
    assert {r["field"] for r in event.data["restored"]} == {"StageName", "Amount"}
    assert "item.reverted" in [e.type for e in published]
    assert "Restored: StageName, Amount." in _told(service, slack, REVIEWER)


def test_revert_leaves_a_field_changed_since(
    service: Service, slack: SlackDriver, org: SalesforceStandin, agent_key: str
) -> None:
    item_id = _written(service, agent_key)
    org.set_field("Opportunity", OPP, "Amount", 95000)  # a rep's newer work

    slack.said(REVIEWER, f"revert {item_id}")
    _reverted(service, item_id)

    assert _opp(org)["StageName"] == "Proposal/Price Quote"
    assert _opp(org)["Amount"] == 95000  # not overwritten
    data = (load(service.rt, item_id).writeback or {})["revert"]
    assert data["kept"] == [{"field": "Amount", "wrote": 90000, "now": 95000}]
    told = _told(service, slack, REVIEWER)
    assert "Not overwritten: Amount (now 95000) changed in Salesforce" in told


def test_revert_refused_for_others_and_after_the_window(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    item_id = _written(service, agent_key)
    refused = slack.said(STRANGER, f"revert {item_id}")
    assert "only the person who confirmed" in refused["text"]
    with pytest.raises(NotPermitted):
        request_undo(service.rt, item_id, STRANGER, None)
    with pytest.raises(Conflict, match="undo window is over"):
        request_undo(service.rt, item_id, ADMIN, None, now=utcnow() + timedelta(days=8))
    assert load(service.rt, item_id).writeback_state == "written"


def test_revert_refused_when_nothing_written(service: Service, slack: SlackDriver) -> None:
    answer = slack.said(REVIEWER, "revert itm_nope")
    assert "does not exist" in answer["text"]


def test_cli_revert_closes_the_task(
    service: Service, org: SalesforceStandin, agent_key: str
) -> None:
    body = payloads.task(record={"sobject": "Opportunity", "id": OPP}, assignee=REVIEWER)
    item_id = _written(service, agent_key, body)
    task_id = (load(service.rt, item_id).writeback or {})["task_id"]

    settings = service.rt.settings
    env = {"DATABASE_URL": settings.database_url, "AIRLOCK_WORKFLOWS": str(settings.workflows_dir)}
    result = CliRunner().invoke(cli_app, ["revert", item_id, "--reason", "duplicate"], env=env)
    assert result.exit_code == 0, result.output
    _reverted(service, item_id)

    task = org.get("Task", task_id)
    assert task is not None and task["Status"] == "Completed"
    item = load(service.rt, item_id)
    assert item.writeback_state == "reverted"
    assert (item.writeback or {})["revert"]["task"] == f"closed {task_id}"
