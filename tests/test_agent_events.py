"""Which changes publish which agent events, written in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.base.errors import AlreadyDecided
from bot.core import autonomy, control, decisions
from bot.core.agent_events import TYPES
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.server import create_app
from handlers.event_docs import body_model
from models import AgentEvent, Outbox
from tests.test_autonomy import ADMIN, OWNER, decide_many
from tests.writeback_support import (
    REVIEWER,
    approved,
    respec,
    settle,
    sf_client,
    update_body,
    write_worker,
)

OPP = make_id("Opportunity", 1)  # seeded: StageName "Proposal/Price Quote"
STAGE = {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}


@pytest.fixture
def worker(rt: Runtime, standin: SalesforceStandin) -> Iterator[OutboxWorker]:
    client: SalesforceClient = sf_client(standin)
    yield write_worker(rt, client)
    client.close()


def published(rt: Runtime, **where: Any) -> list[dict[str, Any]]:
    """The stored event bodies matching `where` (column=value), oldest first."""
    query = select(AgentEvent).order_by(col(AgentEvent.id))
    for name, value in where.items():
        query = query.where(getattr(AgentEvent, name) == value)
    with rt.db.read() as session:
        return [e.body for e in session.exec(query)]


def kinds(rt: Runtime, item_id: str) -> list[str]:
    return [b["type"] for b in published(rt, item_id=item_id)]


def test_decision_and_each_writeback_end_publish_their_type(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    written = approved(rt, agent_key, update_body(OPP, [STAGE]))
    settle(rt, worker)
    assert kinds(rt, written) == ["item.decided", "item.written"]
    decided, done = published(rt, item_id=written)
    assert (decided["data"]["status"], decided["data"]["decided_by"]) == ("approved", REVIEWER)
    assert done["data"]["writeback_state"] == "written"
    assert done["data"]["detail"]["results"][0]["state"] == "written"

    moved = standin.add("Opportunity", {"Name": "Acme", "StageName": "Prospecting"})
    step = {"field": "StageName", "value": "Closed Won", "observed": "Prospecting"}
    conflicted = approved(rt, agent_key, update_body(moved, [step]))
    standin.set_field("Opportunity", moved, "StageName", "Closed Lost")  # a rep moved it
    settle(rt, worker)
    assert kinds(rt, conflicted) == ["item.decided", "item.conflict"]

    other = standin.add("Opportunity", {"Name": "Beta", "StageName": "Prospecting"})
    nxt = {"field": "NextStep", "value": "Call", "observed": None}
    failed = approved(rt, agent_key, update_body(other, [nxt]))
    outputs = {"kinds": ["field_update", "task"], "fields": ["Opportunity.StageName"]}
    respec(rt, workflows_dir, allowed_outputs=outputs, gate=[])  # NextStep no longer allowed
    settle(rt, worker)
    assert kinds(rt, failed) == ["item.decided", "item.failed"]
    assert "allowlist" in published(rt, item_id=failed)[1]["data"]["detail"]["error"]


def test_rejection_publishes_once_and_a_lost_race_nothing(rt: Runtime, agent_key: str) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, [STAGE]))
    with pytest.raises(AlreadyDecided):
        decisions.reject(rt, item_id, REVIEWER, "tone")
    assert kinds(rt, item_id) == ["item.decided"]


def test_pause_resume_and_autonomy_publish_workflow_events(rt: Runtime, agent_key: str) -> None:
    assert control.pause(rt, "opp-hygiene", OWNER, "bad week")
    control.resume(rt, "opp-hygiene", OWNER)
    decide_many(rt, agent_key, approved=50)
    assert autonomy.promote(rt, "opp-hygiene", OWNER)[0]
    assert autonomy.demote_command(rt, "opp-hygiene", ADMIN)
    bodies = published(rt, workflow_id="opp-hygiene", item_id=None)
    assert [b["type"] for b in bodies] == [
        "workflow.paused",
        "workflow.resumed",
        "workflow.autonomy_changed",
        "workflow.autonomy_changed",
    ]
    paused, _resumed, promoted, demoted = (b["data"] for b in bodies)
    assert (paused["actor"], paused["reason"]) == (f"user:{OWNER}", "bad week")
    assert (promoted["change"], promoted["mode"]) == ("promoted", "autopilot")
    assert promoted["detail"]["decisions"] == 50
    assert (demoted["change"], demoted["mode"], demoted["actor"]) == (
        "demoted",
        "review",
        f"user:{ADMIN}",
    )
    assert {b["type"] for b in published(rt)} <= set(TYPES)


def test_no_callback_queues_no_webhook(rt: Runtime, agent_key: str) -> None:
    """Events are always stored for the feed; outbox rows only where someone listens."""
    approved(rt, agent_key, update_body(OPP, [STAGE]))
    with rt.db.read() as session:
        hooks = session.exec(select(Outbox).where(col(Outbox.kind) == "webhook")).all()
    assert hooks == [] and len(published(rt)) == 1


def test_stored_bodies_match_the_documented_webhooks(rt: Runtime, agent_key: str) -> None:
    approved(rt, agent_key, update_body(OPP, [STAGE]))
    assert control.pause(rt, "opp-hygiene", OWNER, None)
    bodies = published(rt)
    assert [b["type"] for b in bodies] == ["item.decided", "workflow.paused"]
    for body in bodies:
        body_model(body["type"]).model_validate(body)
    documented = create_app(rt).openapi()["webhooks"]
    assert sorted(documented) == sorted(TYPES)
    signed = documented["item.decided"]["post"]["parameters"]
    assert [p["name"] for p in signed] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
