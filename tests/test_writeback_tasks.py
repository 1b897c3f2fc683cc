"""Tasks are created once per item even when a person edits the Task before the retry: the
retry reconciles on what people do not edit, and the intent is recorded by compare-and-set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.core.runtime import Runtime
from bot.delivery.writeback_tasks import record_intent
from bot.salesforce.client import SalesforceClient
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from models import Outbox
from models.types import utcnow
from tests import payloads
from tests.writeback_support import (
    REVIEWER,
    approved,
    load,
    outcome,
    respec,
    settle,
    write_worker,
)

OPP = make_id("Opportunity", 1)


class Crash(BaseException):
    """The worker process dying right after Salesforce created the Task."""


class DiesAfterCreate(SalesforceClient):
    def create(self, sobject: str, fields: Any) -> str:
        super().create(sobject, fields)
        raise Crash


def _crash_after_create(rt: Runtime, agent_key: str, client: SalesforceClient) -> str:
    body = payloads.task(record={"sobject": "Opportunity", "id": OPP}, assignee=REVIEWER)
    item_id = approved(rt, agent_key, body)
    with pytest.raises(Crash):
        write_worker(rt, DiesAfterCreate(client.config), lease=0.2).run_once()
    with rt.db.write() as session:  # the dead worker's lease runs out
        session.execute(update(Outbox).values(lease_until=utcnow() - timedelta(seconds=1)))
    return item_id


def test_find_task_after_person_edited_subject(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    item_id = _crash_after_create(rt, agent_key, client)
    [task_id] = standin.records("Task")
    standin.set_field("Task", task_id, "Subject", "Call legal about the redlines")
    settle(rt, write_worker(rt, client))
    assert list(standin.records("Task")) == [task_id]
    assert len(standin.calls_matching("POST", "sobjects/Task")) == 1
    assert (load(rt, item_id).writeback_state, outcome(rt, item_id)["task_id"]) == (
        "written",
        task_id,
    )


def test_find_task_by_item_field_after_both_markers_edited(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    client: SalesforceClient,
    workflows_dir: Path,
) -> None:
    standin.add_field("Task", "Airlock_Item__c")
    respec(rt, workflows_dir, writeback={"task_item_field": "Airlock_Item__c"})
    item_id = _crash_after_create(rt, agent_key, client)
    [(task_id, task)] = standin.records("Task").items()
    assert task["Airlock_Item__c"] == item_id
    standin.set_field("Task", task_id, "Subject", "Legal")
    standin.set_field("Task", task_id, "Description", "rewritten by the rep")
    settle(rt, write_worker(rt, client))
    assert list(standin.records("Task")) == [task_id]
    assert outcome(rt, item_id)["task_id"] == task_id
    [lookup] = [c for c in standin.calls_matching("GET", "query") if "FROM Task" in c.query["q"]]
    assert f"Airlock_Item__c = '{item_id}'" in lookup.query["q"]


def test_record_task_intent_by_compare_and_set(rt: Runtime, agent_key: str) -> None:
    body = payloads.task(record={"sobject": "Opportunity", "id": OPP}, assignee=REVIEWER)
    item_id = approved(rt, agent_key, body)
    stale = load(rt, item_id)  # both deliverers read the item before either recorded intent
    first, earlier = record_intent(rt.db, stale)
    assert not earlier and first.writeback and first.writeback["task_intent_at"]
    second, earlier = record_intent(rt.db, stale)
    assert earlier  # the second deliverer must look for the first one's Task before creating
    assert second.writeback == first.writeback  # the first intent (and its time) stands
