"""Write-back over real HTTP against the Salesforce stand-in: written once, edits, conflicts,
the allowlist, provenance, tasks across a crash, and the stop button."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.core import control, decisions
from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.salesforce.values import same
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Outbox
from models.types import utcnow
from tests import payloads
from tests.writeback_support import (
    REVIEWER,
    approved,
    load,
    notices,
    outcome,
    patches,
    record,
    respec,
    routed,
    settle,
    update_body,
    write_row,
    write_worker,
)

OPP = make_id("Opportunity", 1)  # seeded: StageName "Proposal/Price Quote", Amount 84000
STAGE: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}
]


def test_write_approved_value_once(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Negotiation/Review"
    assert patches(standin) == [
        {
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Opportunity"},
                    "id": OPP,
                    "StageName": "Negotiation/Review",
                }
            ],
        }
    ]
    item = load(rt, item_id)
    assert item.writeback_state == "written"
    assert item.writeback == {
        "results": [
            {
                "field": "StageName",
                "state": "written",
                "value": "Negotiation/Review",
                "observed": "Proposal/Price Quote",
                "current": "Proposal/Price Quote",
                "message": None,
            }
        ],
        "attempts": 1,
    }


def test_redeliver_written_item_sends_nothing(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker)
    with rt.db.write() as session:  # as if the worker's lease ran out after it had recorded
        session.execute(update(Outbox).values(status="pending", due_at=utcnow()))
    standin.reset_calls()
    settle(rt, worker)
    assert standin.api_calls == 0
    assert write_row(rt, item_id).last_error is None
    assert load(rt, item_id).writeback_state == "written"


def test_write_edited_value(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = routed(rt, agent_key, update_body(OPP, STAGE))
    decisions.edit(rt, item_id, REVIEWER, {"StageName": "Closed Won"})
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Closed Won"
    assert [r["StageName"] for body in patches(standin) for r in body["records"]] == ["Closed Won"]
    result = outcome(rt, item_id)["results"][0]
    assert (result["state"], result["value"]) == ("written", "Closed Won")


def test_conflict_keeps_changed_record(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    step = {"field": "NextStep", "value": "Send final MSA", "observed": "Send redlined MSA"}
    item_id = approved(rt, agent_key, update_body(OPP, [*STAGE, step]))
    standin.set_field("Opportunity", OPP, "StageName", "Closed Lost")  # a rep moved it meanwhile
    settle(rt, worker)
    fields = record(standin, OPP)
    assert (fields["StageName"], fields["NextStep"]) == ("Closed Lost", "Send final MSA")
    item = load(rt, item_id)
    assert item.writeback_state == "conflict"
    stage, next_step = outcome(rt, item_id)["results"]
    assert (stage["state"], stage["current"], stage["observed"]) == (
        "conflict",
        "Closed Lost",
        "Proposal/Price Quote",
    )
    assert next_step["state"] == "written"
    sent = [set(r) - {"attributes", "id"} for body in patches(standin) for r in body["records"]]
    assert sent == [{"NextStep"}]
    assert [n["to"] for n in notices(rt, "writeback_conflict")] == [REVIEWER]


def test_compare_values_as_salesforce_means_them() -> None:
    assert same(84000.0, 84000) and same(84000.0, "84000")
    assert not same(84000.0, 84000.5)
    assert same(None, "") and not same(None, "0")
    assert same("2026-11-01T09:00:00.000+0000", "2026-11-01T09:00:00Z")
    assert same("2026-12-15", "2026-12-15") and not same("2026-12-15", "2026-12-16")
    assert same(True, "true") and not same(False, "true")
    assert not same("Proposal", "proposal")  # picklist values are not case-folded


def test_write_numbers_and_blanks_without_false_conflict(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    opp = standin.add("Opportunity", {"Name": "Blank step", "Amount": 84000.0, "NextStep": None})
    changes: list[dict[str, Any]] = [
        {"field": "Amount", "value": 90000, "observed": 84000},
        {"field": "NextStep", "value": "Call CFO", "observed": ""},
    ]
    item_id = approved(rt, agent_key, update_body(opp, changes))
    settle(rt, worker)
    assert load(rt, item_id).writeback_state == "written"
    fields = record(standin, opp)
    assert (fields["Amount"], fields["NextStep"]) == (90000, "Call CFO")


def test_refuse_field_outside_allowlist(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    changes = [
        *STAGE,
        {"field": "NextStep", "value": "Discount 40%", "observed": "Send redlined MSA"},
    ]
    item_id = approved(rt, agent_key, update_body(OPP, changes))
    outputs = {"kinds": ["field_update", "task"], "fields": ["Opportunity.StageName"]}
    # tightened after the approval (gate rules may name only allowlisted fields)
    respec(rt, workflows_dir, allowed_outputs=outputs, gate=[])
    settle(rt, worker)
    sent = [set(r) for body in patches(standin) for r in body["records"]]
    assert sent == [{"attributes", "id", "StageName"}]
    assert record(standin, OPP)["NextStep"] == "Send redlined MSA"
    item = load(rt, item_id)
    states = {r["field"]: r["state"] for r in outcome(rt, item_id)["results"]}
    assert states == {"StageName": "written", "NextStep": "refused"}
    assert item.writeback_state == "failed"
    assert "Opportunity.NextStep is not in the allowlist" in outcome(rt, item_id)["error"]


def test_stamp_provenance_fields(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    for name in ("Airlock_Authority__c", "Airlock_Item__c"):
        standin.add_field("Opportunity", name)
    writeback = {"authority_field": "Airlock_Authority__c", "item_field": "Airlock_Item__c"}
    respec(rt, workflows_dir, writeback=writeback)
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker)
    fields = record(standin, OPP)
    decided_at = load(rt, item_id).decided_at
    assert decided_at is not None
    stamp = f"confirmed by {REVIEWER} {decided_at:%Y-%m-%dT%H:%M:%SZ}"
    assert (fields["Airlock_Authority__c"], fields["Airlock_Item__c"]) == (stamp, item_id)


def write_task_subject(standin: SalesforceStandin) -> str:
    [task] = standin.records("Task").values()
    return str(task["Subject"])


class Crash(BaseException):
    """The worker process dying: nothing after the call runs, no handler catches it."""


class DiesAfterCreate(SalesforceClient):
    """A client whose process dies right after Salesforce created a record."""

    def create(self, sobject: str, fields: Any) -> str:
        super().create(sobject, fields)
        raise Crash


def test_create_task_once_across_crash(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    item_id = approved(
        rt,
        agent_key,
        payloads.task(record={"sobject": "Opportunity", "id": OPP}, assignee=REVIEWER),
    )
    dying = write_worker(rt, DiesAfterCreate(client.config), lease=0.2)
    with pytest.raises(Crash):
        dying.run_once()
    assert len(standin.records("Task")) == 1
    intent = load(rt, item_id).writeback or {}
    assert (intent["task_intent"], set(intent)) == (
        write_task_subject(standin),
        {"task_intent", "task_intent_at"},
    )
    with rt.db.write() as session:  # the dead worker's lease runs out
        session.execute(update(Outbox).values(lease_until=utcnow() - timedelta(seconds=1)))
    settle(rt, write_worker(rt, client))
    tasks = standin.records("Task")
    assert len(tasks) == 1
    assert len(standin.calls_matching("POST", "sobjects/Task")) == 1
    [lookup] = [c for c in standin.calls_matching("GET", "query") if "FROM Task" in c.query["q"]]
    assert f"WhatId = '{OPP}' AND CreatedDate >= " in lookup.query["q"]
    [(task_id, task)] = tasks.items()
    item = load(rt, item_id)
    assert (item.writeback_state, outcome(rt, item_id)["task_id"]) == ("written", task_id)
    assert task["Subject"] == f"Reply to legal redlines [airlock:{item_id}]"
    assert (task["WhatId"], task["ActivityDate"]) == (OPP, "2026-11-28")
    footer = task["Description"].split("\n\n")[-1]
    assert item_id in footer and f"confirmed by {REVIEWER}" in footer


def test_paused_workflow_write_waits_for_resume(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    admin = sorted(rt.settings.admins)[0]
    control.pause(rt, "opp-hygiene", admin, "checking a bad batch")
    assert worker.drain() == 0
    assert standin.api_calls == 0
    assert load(rt, item_id).writeback_state == "queued"
    control.resume(rt, "opp-hygiene", admin)
    settle(rt, worker)
    assert record(standin, OPP)["StageName"] == "Negotiation/Review"
    assert load(rt, item_id).writeback_state == "written"
