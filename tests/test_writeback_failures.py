"""Write-back failures against the Salesforce stand-in: rejected records fail and the owner is
told; lock errors retry; a failed Task create keeps its intent; the API limit and a rejected
session back off and alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
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
    settle,
    update_body,
    write_row,
)

OPP = make_id("Opportunity", 1)  # seeded: StageName "Proposal/Price Quote"
STAGE: list[dict[str, Any]] = [
    {"field": "StageName", "value": "Negotiation/Review", "observed": "Proposal/Price Quote"}
]


def test_fail_on_rejected_record_and_tell_owner(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    respec(rt, workflows_dir, writeback={"authority_field": "Missing_Field__c"})
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    settle(rt, worker)
    item = load(rt, item_id)
    message = (
        "Opportunity.Missing_Field__c cannot be written: "
        "INVALID_FIELD: No such column 'Missing_Field__c' on sobject of type Opportunity"
    )
    assert (item.writeback_state, outcome(rt, item_id)["error"]) == ("failed", message)
    assert outcome(rt, item_id)["results"][0]["state"] == "failed"
    assert write_row(rt, item_id).status == "dead"
    assert record(standin, OPP)["StageName"] == "Proposal/Price Quote"
    owner = rt.spec("opp-hygiene").spec.owner
    [notice] = notices(rt, "writeback_failed")
    assert notice["to"] == owner and message in notice["text"]


def test_retry_lock_errors_then_write(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    standin.inject("lock", times=1, match="composite")  # every record: UNABLE_TO_LOCK_ROW
    settle(rt, worker)
    item = load(rt, item_id)
    # a lock error is transient: tried twice, yet it spent none of the row's attempt budget
    assert (item.writeback_state, outcome(rt, item_id)["attempts"]) == ("written", 1)
    assert len(patches(standin)) == 2
    assert [w.id for w in standin.applied_writes("Opportunity")] == [OPP]


def test_back_off_on_request_limit_and_alert(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    standin.inject("limit", times=1, match="query")
    assert worker.run_once() == 1
    row = write_row(rt, item_id)
    assert row.status == "pending" and row.due_at >= utcnow() + timedelta(seconds=290)
    assert "limit" in outcome(rt, item_id)["retry"]
    owner = rt.spec("opp-hygiene").spec.owner
    told = sorted(n["to"] for n in notices(rt, "salesforce_limit"))
    assert told == sorted({owner, *rt.settings.admins})
    assert patches(standin) == []


def test_back_off_on_rejected_session_and_tell_owner(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    item_id = approved(rt, agent_key, update_body(OPP, STAGE))
    standin.inject("401", times=1)  # the token is revoked; this client cannot sign in again
    assert worker.run_once() == 1
    row = write_row(rt, item_id)
    assert row.status == "pending" and row.due_at >= utcnow() + timedelta(seconds=600)
    [notice] = notices(rt, "salesforce_auth")
    assert notice["to"] == rt.spec("opp-hygiene").spec.owner
    assert load(rt, item_id).writeback_state == "queued"


def test_keep_task_intent_when_create_fails(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    body = payloads.task(record={"sobject": "Opportunity", "id": OPP}, assignee=REVIEWER)
    item_id = approved(rt, agent_key, body)
    standin.inject("503", match="sobjects")  # the create fails (it may have been applied)
    assert worker.run_once() == 1
    waiting = outcome(rt, item_id)
    assert waiting["task_intent"].endswith(f"[airlock:{item_id}]")
    assert waiting["attempts"] == 1 and "retryable" in waiting["retry"]
    settle(rt, worker)
    assert len(standin.records("Task")) == 1
    lookups = [c for c in standin.calls_matching("GET", "query") if "FROM Task" in c.query["q"]]
    assert len(lookups) == 1  # the second attempt looked for the first one's Task
    assert outcome(rt, item_id)["task_id"] in standin.records("Task")
