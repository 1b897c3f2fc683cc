"""Tasks relate to people through WhoId and to things through WhatId, and take the org's own
Status and Priority defaults; the stand-in refuses a person in WhatId as Salesforce does."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient, SalesforceError
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from tests import payloads
from tests.writeback_support import (
    REVIEWER,
    approved,
    load,
    outcome,
    settle,
)

OPP, LEAD, CONTACT = make_id("Opportunity", 1), make_id("Lead", 1), make_id("Contact", 1)
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def task_on(sobject: str, record_id: str) -> dict[str, Any]:
    record = {"sobject": sobject, "id": record_id}
    return payloads.task(record=record, assignee=REVIEWER, idempotency_key=f"task:{record_id}")


def created_task(standin: SalesforceStandin) -> dict[str, Any]:
    [task] = standin.records("Task").values()
    return task


@pytest.mark.parametrize(
    ("sobject", "record_id", "who", "what"),
    [
        ("Lead", LEAD, LEAD, None),
        ("Contact", CONTACT, CONTACT, None),
        ("Opportunity", OPP, None, OPP),
    ],
)
def test_relate_task_to_person_or_thing(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    sobject: str,
    record_id: str,
    who: str | None,
    what: str | None,
) -> None:
    item_id = approved(rt, agent_key, task_on(sobject, record_id))
    settle(rt, worker)
    assert load(rt, item_id).writeback_state == "written", outcome(rt, item_id)
    task = created_task(standin)
    assert (task["WhoId"], task["WhatId"]) == (who, what)


def test_task_takes_the_orgs_status_and_priority(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    # An org whose Task picklists have other values: Airlock must not hard-code its own.
    standin.set_picklist_default("Task", "Status", "Open")
    standin.set_picklist_default("Task", "Priority", "P3")
    item_id = approved(rt, agent_key, task_on("Opportunity", OPP))
    settle(rt, worker)
    assert load(rt, item_id).writeback_state == "written"
    task = created_task(standin)
    assert (task["Status"], task["Priority"]) == ("Open", "P3")
    [create] = standin.calls_matching("POST", "sobjects/Task")
    assert "Status" not in create.body and "Priority" not in create.body


@pytest.mark.parametrize(
    ("fields", "at_fault"),
    [
        ({"WhatId": LEAD}, "WhatId"),
        ({"WhatId": CONTACT}, "WhatId"),
        ({"WhoId": OPP}, "WhoId"),
    ],
)
def test_standin_refuses_wrong_task_relation(
    standin: SalesforceStandin, client: SalesforceClient, fields: dict[str, str], at_fault: str
) -> None:
    with pytest.raises(SalesforceError) as refused:
        client.create("Task", {"Subject": "Call back", **fields})
    assert (refused.value.status, refused.value.error_code) == (400, "FIELD_INTEGRITY_EXCEPTION")
    assert "id value of incorrect type" in refused.value.message
    assert standin.records("Task") == {}
    url = f"{standin.instance_url}/services/data/v62.0/sobjects/Task"
    with requests.Session() as http:
        http.trust_env = False
        answer = http.post(url, json={"Subject": "x", **fields}, timeout=5, headers=AUTH)
    assert answer.json()[0]["fields"] == [at_fault]


def test_standin_fills_task_defaults(standin: SalesforceStandin, client: SalesforceClient) -> None:
    task_id = client.create("Task", {"Subject": "Call back", "WhoId": LEAD})
    task = standin.get("Task", task_id)
    assert task is not None
    assert (task["Status"], task["Priority"], task["WhoId"]) == ("Not Started", "Normal", LEAD)
    chosen = client.create("Task", {"Subject": "Urgent", "Priority": "High"})
    assert (standin.get("Task", chosen) or {})["Priority"] == "High"
