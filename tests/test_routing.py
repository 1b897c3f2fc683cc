"""Who decides, end to end on the stand-ins: a manager gate never falls to the rep, the agent's
`assignee` is only a request, and escalation climbs one level or says nobody is above."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.base.config import Settings
from bot.base.specs import SpecError
from bot.core import control, decisions
from bot.core.runtime import open_runtime
from bot.delivery import timers
from bot.sandbox.salesforce_seed import SEED_PEOPLE
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.service import Service, build_service
from models import Event, Item
from tests import payloads
from tests.test_lifecycle import get, post
from tests.test_timers import dms, later

REP, MANAGER, OWNER = "U0MAYA", "U0SAM", "U0OLIVIA"
SF_ID = {p.slack_id: p.salesforce_id for p in SEED_PEOPLE}
AMOUNT = {"field": "Amount", "value": 90000, "observed": 80000}  # forecast field: manager gate


def salesforce(service: Service) -> SalesforceStandin:
    standin = service.integrations.sandbox.salesforce
    assert standin is not None
    return standin


def routed(service: Service, agent_key: str, **body: Any) -> Item:
    item_id = post(service.rt, agent_key, payloads.field_update(**body))
    service.worker.drain()
    item = get(service.rt, item_id)
    assert item.card_ts is not None
    return item


def events(service: Service, item_id: str, kind: str) -> list[Event]:
    with service.rt.db.read() as session:
        query = select(Event).where(col(Event.item_id) == item_id, col(Event.type) == kind)
        return list(session.exec(query))


def test_route_manager_gate_to_manager(service: Service, agent_key: str) -> None:
    item = routed(service, agent_key, changes=[AMOUNT])
    assert (item.gate, item.assignee) == ("manager", MANAGER)
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(service.rt, item.id, REP)


def test_route_manager_gate_without_manager_to_owner(service: Service, agent_key: str) -> None:
    salesforce(service).set_field("User", SF_ID[REP], "ManagerId", None)
    item = routed(service, agent_key, changes=[AMOUNT])
    assert (item.gate, item.assignee, item.manager) == ("manager", OWNER, None)
    note = events(service, item.id, "assigned")[0].data["note"]
    assert "no manager is known for <@U0MAYA>" in note
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(service.rt, item.id, REP)
    assert decisions.approve(service.rt, item.id, OWNER).status == "approved"


def test_route_manager_gate_assignee_outside_salesforce(service: Service, agent_key: str) -> None:
    # The agent names Priya, whose Slack email matches no Salesforce user: no manager is known.
    salesforce(service).set_field("User", SF_ID["U0PRIYA"], "Email", "elsewhere@example.com")
    item = routed(service, agent_key, changes=[AMOUNT], assignee="U0PRIYA")
    assert (item.assignee, item.manager) == (OWNER, None)
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(service.rt, item.id, "U0PRIYA")


def test_decide_raw_assignee_not_trusted_before_routing(service: Service, agent_key: str) -> None:
    item_id = post(service.rt, agent_key, payloads.field_update(assignee="U0PRIYA"))
    assert get(service.rt, item_id).assignee is None
    with pytest.raises(decisions.NotPermitted):
        decisions.approve(service.rt, item_id, "U0PRIYA")
    service.worker.drain()
    assert decisions.approve(service.rt, item_id, "U0PRIYA").status == "approved"


def escalate(service: Service, item: Item) -> timers.SweepReport:
    people = service.integrations.people
    timers.sweep(service.rt, people, later(item, 4))
    report = timers.sweep(service.rt, people, later(item, 24))
    service.worker.drain()
    return report


def test_escalate_manager_gate_to_next_level(service: Service, agent_key: str) -> None:
    salesforce(service).set_field("User", SF_ID[MANAGER], "ManagerId", SF_ID["U0NINA"])
    item = routed(service, agent_key, changes=[AMOUNT])
    assert (item.assignee, item.manager) == (MANAGER, "U0NINA")
    assert escalate(service, item).escalated == [item.id]
    after = get(service.rt, item.id)
    assert (after.escalated, after.manager) == (True, "U0NINA")
    assert any(item.id in text for text in dms(service, "U0NINA"))
    assert decisions.approve(service.rt, item.id, "U0NINA").status == "approved"


def test_escalate_manager_gate_without_next_level_to_owner(
    service: Service, agent_key: str
) -> None:
    item = routed(service, agent_key, changes=[AMOUNT])  # Sam has no manager
    escalate(service, item)
    after = get(service.rt, item.id)
    assert (after.escalated, after.manager) == (True, OWNER)
    cards_to_sam = [t for t in dms(service, MANAGER) if item.id in t and "Escalated to you" in t]
    assert cards_to_sam == []
    note = events(service, item.id, "escalated")[0].data["note"]
    assert "the workflow owner decides" in note


def test_escalate_says_nobody_above(service: Service, agent_key: str) -> None:
    salesforce(service).set_field("User", SF_ID[REP], "ManagerId", None)
    item = routed(service, agent_key, changes=[AMOUNT])  # the owner decides
    escalate(service, item)
    escalated = events(service, item.id, "escalated")[0].data
    assert escalated["to"] is None and "nobody is above <@U0OLIVIA>" in escalated["note"]
    assert [t for t in dms(service, OWNER) if "Escalated to you" in t] == []
    after = get(service.rt, item.id)
    # No manager card will come: expiry still counts, from the escalation.
    assert after.escalated and after.next_due_at is not None


def owner_written_as(workflows_dir: Path, owner: str) -> None:
    path = workflows_dir / "opp-hygiene.yml"
    path.write_text(path.read_text().replace("owner: U0OLIVIA", f"owner: {owner}"))


def test_start_resolves_owner_email(settings: Settings, workflows_dir: Path) -> None:
    owner_written_as(workflows_dir, next(p.email for p in SEED_PEOPLE if p.slack_id == OWNER))
    rt = open_runtime(settings)
    service = build_service(settings, rt)
    try:
        assert rt.spec("opp-hygiene").spec.owner == OWNER
        assert control.pause(rt, "opp-hygiene", "U0ADMIN", "checking")
        service.worker.drain()
        assert any("paused `opp-hygiene`" in text for text in dms(service, OWNER))
        assert control.resume(rt, "opp-hygiene", OWNER) == []
    finally:
        service.stop()
        rt.db.dispose()


@pytest.mark.parametrize("owner", ["gone@nowhere.example", "U0NOBODY"])
def test_start_refuses_unknown_owner(settings: Settings, workflows_dir: Path, owner: str) -> None:
    owner_written_as(workflows_dir, owner)
    rt = open_runtime(settings)
    try:
        with pytest.raises(SpecError) as refused:
            build_service(settings, rt)
        assert str(refused.value).startswith(f"{workflows_dir / 'opp-hygiene.yml'}: owner: ")
        assert owner in str(refused.value)
    finally:
        rt.db.dispose()
