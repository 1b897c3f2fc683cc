"""Failure isolation in a write wave: a field or value Salesforce refuses for the whole request
fails only the items that carry it; the other items of the wave are written exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from bot.core.outbox import OutboxWorker
from bot.core.runtime import Runtime
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests.writeback_support import (
    approved,
    load,
    notices,
    outcome,
    patches,
    record,
    respec,
    settle,
    update_body,
)

OPPS = [make_id("Opportunity", n) for n in range(1, 6)]


def _allow(rt: Runtime, workflows_dir: Path, *fields: str) -> None:
    """Allowlist more fields and drop the gates (any reviewer may approve every field)."""
    spec = yaml.safe_load((workflows_dir / "opp-hygiene.yml").read_text())
    outputs = spec["allowed_outputs"] | {"fields": [*spec["allowed_outputs"]["fields"], *fields]}
    respec(rt, workflows_dir, allowed_outputs=outputs, gate=[])


def _change(field: str, value: Any) -> list[dict[str, Any]]:
    return [{"field": field, "value": value}]


def _writes_per_record(standin: SalesforceStandin) -> Counter[str]:
    return Counter(write.id for write in standin.applied_writes("Opportunity"))


def test_fail_only_items_changing_unreadable_field(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    # allowlisted, but not deployed in this org (or hidden from the integration user)
    _allow(rt, workflows_dir, "Opportunity.Forecast_Notes__c")
    healthy = [
        approved(rt, agent_key, update_body(OPPS[0], _change("StageName", "Closed Won"))),
        approved(rt, agent_key, update_body(OPPS[2], _change("NextStep", "Book the demo"))),
    ]
    broken = approved(rt, agent_key, update_body(OPPS[1], _change("Forecast_Notes__c", "Q1")))
    settle(rt, worker)
    assert [load(rt, i).writeback_state for i in healthy] == ["written", "written"]
    assert record(standin, OPPS[0])["StageName"] == "Closed Won"
    assert record(standin, OPPS[2])["NextStep"] == "Book the demo"
    assert _writes_per_record(standin) == {OPPS[0]: 1, OPPS[2]: 1}
    assert len(patches(standin)) == 1  # the healthy items still share one request
    error = outcome(rt, broken)["error"]
    assert load(rt, broken).writeback_state == "failed"
    assert "Opportunity.Forecast_Notes__c" in error and "No such column" in error
    [notice] = notices(rt, "writeback_failed")
    assert broken in notice["text"] and "Forecast_Notes__c" in notice["text"]


def test_fail_only_items_with_unreadable_values(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    _allow(rt, workflows_dir)
    # the same text is fine in NextStep (a text field): only the date is at fault
    values = ["Closed Won", "next Friday", "next Friday", "2027-06-30", "later"]
    fields = ["StageName", "CloseDate", "NextStep", "CloseDate", "Amount"]
    items = [
        approved(rt, agent_key, update_body(opp, _change(field, value)))
        for opp, field, value in zip(OPPS, fields, values, strict=True)
    ]
    settle(rt, worker)
    states = [load(rt, item_id).writeback_state for item_id in items]
    assert states == ["written", "failed", "written", "written", "failed"]
    assert _writes_per_record(standin) == {OPPS[0]: 1, OPPS[2]: 1, OPPS[3]: 1}
    assert record(standin, OPPS[3])["CloseDate"] == "2027-06-30"
    close_error, amount_error = outcome(rt, items[1])["error"], outcome(rt, items[4])["error"]
    assert close_error.startswith("CloseDate: ") and "JSON_PARSER_ERROR" in close_error
    assert "'next Friday'" in close_error
    assert amount_error.startswith("Amount: ") and "JSON_PARSER_ERROR" in amount_error
    assert record(standin, OPPS[1])["CloseDate"] == "2027-03-31"  # seeded, untouched
    told = sorted(n["text"].split(" ")[2] for n in notices(rt, "writeback_failed"))
    assert told == sorted([items[1], items[4]])


def test_fail_items_of_a_workflow_whose_provenance_field_is_missing(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    respec(rt, workflows_dir, writeback={"authority_field": "Missing_Field__c"})
    first = approved(rt, agent_key, update_body(OPPS[0], _change("NextStep", "Call CFO")))
    second = approved(rt, agent_key, update_body(OPPS[1], _change("NextStep", "Send deck")))
    settle(rt, worker)
    for item_id in (first, second):
        assert load(rt, item_id).writeback_state == "failed"
        error = outcome(rt, item_id)["error"]
        assert error.startswith("Opportunity.Missing_Field__c cannot be written: INVALID_FIELD")
    assert len(patches(standin)) == 1  # the named field fails both at once, no bisection
    assert standin.applied_writes("Opportunity") == []


def test_isolate_few_bad_values_in_a_full_wave(
    rt: Runtime,
    agent_key: str,
    standin: SalesforceStandin,
    worker: OutboxWorker,
    workflows_dir: Path,
) -> None:
    _allow(rt, workflows_dir)
    opps = [standin.add("Opportunity", {"Name": f"Deal {n}", "NextStep": "-"}) for n in range(200)]
    bad = {17, 101, 188}  # a reviewer typed a date Salesforce cannot read
    items = [
        approved(
            rt,
            agent_key,
            update_body(
                opp,
                _change("CloseDate", "next Friday") if n in bad else _change("NextStep", f"s{n}"),
            ),
        )
        for n, opp in enumerate(opps)
    ]
    standin.reset_calls()
    settle(rt, worker)
    states = Counter(load(rt, item_id).writeback_state for item_id in items)
    applied = Counter(write.id for write in standin.applied_writes("Opportunity"))
    calls = len(patches(standin))
    print(f"\n200 items, {len(bad)} faulty: {calls} PATCH calls, {states}")
    assert states == {"written": 197, "failed": 3}
    assert set(applied.values()) == {1} and len(applied) == 197  # none lost, none twice
    assert {load(rt, items[n]).writeback_state for n in bad} == {"failed"}
    assert calls <= 2 + 2 * len(bad)  # the healthy 197 go out together after the refusal


def test_fail_only_items_changing_field_hidden_after_approval(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, worker: OutboxWorker
) -> None:
    stage = approved(rt, agent_key, update_body(OPPS[0], _change("StageName", "Closed Won")))
    step = approved(rt, agent_key, update_body(OPPS[1], _change("NextStep", "Call the CFO")))
    standin.hide_field("Opportunity", "NextStep")  # field-level security changed meanwhile
    settle(rt, worker)
    assert (load(rt, stage).writeback_state, load(rt, step).writeback_state) == (
        "written",
        "failed",
    )
    assert "Opportunity.NextStep cannot be read" in outcome(rt, step)["error"]
    assert _writes_per_record(standin) == {OPPS[0]: 1}
