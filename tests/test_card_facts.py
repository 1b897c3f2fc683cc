"""Cards read Salesforce when they are built, end to end on the stand-ins: the record's name and
field labels, the live value (a stale proposal is flagged), one query per batch, and a card that
still goes out when Salesforce is down; a manager's card shows the manager's own time zone."""

from __future__ import annotations

import json
from typing import Any

from bot.core import decisions
from bot.sandbox.salesforce_standin import SalesforceStandin
from bot.sandbox.samples import GLOBEX_OPP_ID, PLANT_OPP_ID, UMBRELLA_OPP_ID
from bot.service import Service
from bot.slack.blocks import local_time
from bot.slack.card_facts import name_fields, read_facts
from tests import payloads
from tests.test_lifecycle import get, post
from tests.test_routing import SF_ID, escalate, salesforce

MAYA, LEO, SAM = "U0MAYA", "U0LEO", "U0SAM"


def card_text(service: Service, user: str, item_id: str) -> str:
    """The item's card in the user's DM (its footer names the item), as it reads now."""
    standin = service.integrations.sandbox.slack
    assert standin is not None
    texts = [json.dumps(m.blocks, ensure_ascii=False) for m in standin.messages_for(user)]
    found = [t for t in texts if f"Item `{item_id}`" in t]
    assert found, f"no card for {item_id} in {user}'s DMs"
    return found[-1]


def opportunity(record_id: str) -> dict[str, Any]:
    return {"sobject": "Opportunity", "id": record_id}


def card_queries(standin: SalesforceStandin) -> list[str]:
    """SOQL queries that read the cards' opportunities (by Name with their fields)."""
    queries = [c.query.get("q", "") for c in standin.calls_matching("GET", "/query")]
    return [q for q in queries if q.startswith("SELECT Id, Name, StageName FROM Opportunity")]


def test_card_shows_record_name_and_labels(service: Service, agent_key: str) -> None:
    item_id = post(service.rt, agent_key, payloads.field_update())
    service.worker.drain()
    shown = card_text(service, MAYA, item_id)
    assert "Opportunity: *Acme Corp - Renewal 2027*" in shown
    assert payloads.OPP_ID not in shown  # the record by name, never by raw id
    assert "*Stage*: Proposal/Price Quote → *Negotiation/Review*" in shown
    assert "StageName" not in shown


def test_card_reads_one_query_per_batch(service: Service, agent_key: str) -> None:
    standin = salesforce(service)
    for n, record_id in enumerate((payloads.OPP_ID, PLANT_OPP_ID, GLOBEX_OPP_ID)):
        body = payloads.field_update(record=opportunity(record_id), idempotency_key=f"b{n}")
        post(service.rt, agent_key, body | {"assignee": MAYA})
    standin.reset_calls()
    service.worker.drain()
    queries = card_queries(standin)
    assert len(queries) == 1, queries
    assert all(r in queries[0] for r in (payloads.OPP_ID, PLANT_OPP_ID, GLOBEX_OPP_ID))


def test_card_flags_stale_proposal(service: Service, agent_key: str) -> None:
    salesforce(service).set_field("Opportunity", payloads.OPP_ID, "StageName", "Closed Lost")
    item_id = post(service.rt, agent_key, payloads.field_update())  # the agent saw Proposal
    service.worker.drain()
    shown = card_text(service, MAYA, item_id)
    assert "*Stale proposal*" in shown
    assert "Salesforce now says Closed Lost; the agent saw Proposal/Price Quote" in shown


def test_card_posted_when_salesforce_is_down(service: Service, agent_key: str) -> None:
    salesforce(service).inject("503", times=50, match="query")
    item_id = post(service.rt, agent_key, payloads.field_update())
    service.worker.drain()
    standin = service.integrations.sandbox.slack
    assert standin is not None
    cards = [m for m in standin.messages.values() if item_id in json.dumps(m.blocks)]
    assert len(cards) == 1  # posted at once, not held back until Salesforce answers
    shown = json.dumps(cards[0].blocks, ensure_ascii=False)
    assert "Salesforce could not be read just now" in shown
    assert "Proposal/Price Quote → *Negotiation/Review*" in shown


def test_manager_card_shows_manager_time_zone(service: Service, agent_key: str) -> None:
    body = payloads.field_update(record=opportunity(UMBRELLA_OPP_ID))  # Leo's (London)
    item_id = post(service.rt, agent_key, body)
    service.worker.drain()
    escalate(service, get(service.rt, item_id))  # to Sam (New York)
    decisions.approve(service.rt, item_id, SAM)
    service.worker.drain()
    decided = get(service.rt, item_id)
    assert decided.decided_at is not None and decided.manager_card_ts is not None
    sam_time = local_time(decided.decided_at, "America/New_York")
    leo_time = local_time(decided.decided_at, "Europe/London")
    assert f"at {sam_time}" in card_text(service, SAM, item_id)
    assert f"at {leo_time}" in card_text(service, LEO, item_id)


def test_name_fields_follow_describe(service: Service) -> None:
    catalog = service.rt.fields
    catalog.refresh(["Case", "Task", "Opportunity"])
    assert name_fields("Opportunity", catalog) == ("Name",)
    assert name_fields("Case", catalog) == ("CaseNumber", "Subject")
    assert name_fields("Task", catalog) == ("Subject",)
    assert catalog.field("Opportunity", "StageName").label == "Stage"  # type: ignore[union-attr]


def test_read_facts_names_a_case(service: Service, agent_key: str) -> None:
    standin = salesforce(service)
    case_id, case = next(iter(standin.records("Case").items()))
    posted = get(service.rt, post(service.rt, agent_key, payloads.field_update()))
    item = posted.model_copy(update={"record_sobject": "Case", "record_id": case_id, "changes": []})
    client, catalog = service.integrations.salesforce, service.rt.fields
    facts = read_facts([item], client, catalog, service.rt.clock())
    assert facts[item.id].name == f"{case['CaseNumber']}: {case['Subject']}"
    assert case["CaseNumber"] == "00000001"


def test_card_without_manager_names_the_owner(service: Service, agent_key: str) -> None:
    salesforce(service).set_field("User", SF_ID[MAYA], "ManagerId", None)
    item_id = post(service.rt, agent_key, payloads.field_update())
    service.worker.drain()
    shown = card_text(service, MAYA, item_id)
    assert "it goes to <@U0OLIVIA> (the workflow's owner)" in shown
    assert "your manager" not in shown
