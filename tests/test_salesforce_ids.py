"""15- and 18-character Salesforce ids name one record: Airlock compares them as one, and the
stand-in accepts both as Salesforce does."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.salesforce.ids import id_key, same_id, to_18
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from tests.writeback_support import (
    approved,
    load,
    outcome,
    patches,
    record,
    settle,
    update_body,
)

OPP = make_id("Opportunity", 1)
STAGE: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}
]


@pytest.mark.parametrize(
    ("short", "full"),
    [
        # examples from Salesforce's documentation and knowledge articles
        ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
        ("00558000001N0Ke", "00558000001N0KeAAK"),
        ("70130000001tcyI", "70130000001tcyIAAQ"),
    ],
)
def test_convert_15_to_18_characters(short: str, full: str) -> None:
    assert to_18(short) == full
    assert to_18(full) == full
    assert to_18(full.lower()) == full  # the suffix restores the case
    assert to_18(full.upper()) == full
    assert same_id(short, full.lower()) and same_id(full, short)


def test_tell_different_ids_apart() -> None:
    assert not same_id("001A0000006Vm9r", "001A0000006VM9r")  # 15 characters: case matters
    assert not same_id(None, None) and not same_id("", "")
    assert id_key("not an id") == "not an id"
    with pytest.raises(ValueError, match="15 or 18"):
        to_18("001A0000006Vm9")
    with pytest.raises(ValueError, match="last three of 18 are letters or 0-5"):
        to_18("006000000000001999")  # no case suffix: Salesforce writes it in A-Z and 0-5


@pytest.mark.parametrize("form", ["15", "lower-18"])
def test_write_back_record_given_in_another_id_form(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker, form: str
) -> None:
    given = OPP[:15] if form == "15" else OPP.lower()
    item_id = approved(rt, agent_key, update_body(given, STAGE))
    settle(rt, worker)
    assert load(rt, item_id).writeback_state == "written", outcome(rt, item_id)
    assert record(standin, OPP)["StageName"] == "Negotiation/Review"
    [body] = patches(standin)
    assert body["records"][0]["id"] == OPP  # Airlock sends the canonical id


def test_two_items_on_one_record_in_two_id_forms_go_in_two_calls(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    next_step = [{"field": "NextStep", "value": "Call legal", "observed": "Send redlined MSA"}]
    first = approved(rt, agent_key, update_body(OPP.lower(), STAGE))
    second = approved(rt, agent_key, update_body(OPP[:15], next_step))
    settle(rt, worker)
    assert [load(rt, i).writeback_state for i in (first, second)] == ["written", "written"]
    # one record may appear once per collections call: the two forms were seen as one record
    assert [len(body["records"]) for body in patches(standin)] == [1, 1]


def test_standin_accepts_15_character_ids(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    short = OPP[:15]
    [answer] = client.update_records("Opportunity", [{"Id": short, "NextStep": "Short id"}])
    assert answer.success, answer
    assert record(standin, OPP)["NextStep"] == "Short id"
    found = client.read_fields("Opportunity", [OPP.lower()], ["NextStep"])
    assert found == {OPP: {"Id": OPP, "NextStep": "Short id"}}
    url = f"{standin.instance_url}/services/data/v62.0/sobjects/Opportunity/{short}"
    with requests.Session() as http:
        http.trust_env = False
        fetched = http.get(url, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=5)
    assert (fetched.status_code, fetched.json()["Id"]) == (200, OPP)
