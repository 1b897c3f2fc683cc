"""Field metadata from describe(): the cache, spec checks, values at intake, numbers at scale."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot import field_check
from bot.base.errors import InvalidInput
from bot.base.spec_model import WorkflowSpec
from bot.core.effects import NOTIFY
from bot.core.intake import submit
from bot.core.runtime import Runtime
from bot.salesforce.client import SalesforceClient
from bot.salesforce.fields import MAX_AGE, RETRY_AFTER, FieldCatalog, spec_problems
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import DEFAULT_TOKEN, SalesforceStandin
from bot.service import build_service
from models import Outbox
from tests.test_audit_cli import airlock, env
from tests.writeback_support import (
    approved,
    load,
    outcome,
    record,
    respec,
    settle,
    update_body,
    write_worker,
)

OPP = make_id("Opportunity", 1)  # seeded: Amount 84000
__all__ = ["env"]  # fixture


def described(rt: Runtime, client: SalesforceClient) -> FieldCatalog:
    """The runtime's cache, filled from the stand-in as the ticker fills it."""
    rt.fields.client = client
    assert rt.fields.refresh(["Opportunity", "Task"]) == {}
    return rt.fields


def test_own_rounded_write_is_not_a_conflict_on_retry(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    described(rt, client)
    amount = {"field": "Amount", "value": 91234.567, "observed": 84000}
    item_id = approved(rt, agent_key, update_body(OPP, [amount]))
    # The first attempt was applied and its answer lost: the org holds the value at its scale.
    standin.set_field("Opportunity", OPP, "Amount", 91234.57)
    settle(rt, write_worker(rt, client))
    assert load(rt, item_id).writeback_state == "written"
    (result,) = outcome(rt, item_id)["results"]
    assert result["state"] == "written" and result["message"] == "already had this value"
    assert record(standin, OPP)["Amount"] == 91234.57


def test_describe_through_client_fills_cache(client: SalesforceClient) -> None:
    catalog = FieldCatalog(client)
    assert not catalog.known("Opportunity")
    assert catalog.refresh(["Opportunity"]) == {}
    amount = catalog.field("Opportunity", "Amount")
    assert amount is not None and (amount.type, amount.scale) == ("currency", 2)
    stage = catalog.field("Opportunity", "StageName")
    assert stage is not None and stage.restricted and "Id. Decision Makers" in stage.picklist
    assert catalog.field("Opportunity", "Amout") is None


def test_describe_unknown_sobject_marks_every_field_missing(client: SalesforceClient) -> None:
    catalog = FieldCatalog(client)
    errors = catalog.refresh(["Opportunty"])
    assert "NOT_FOUND" in errors["Opportunty"]
    assert catalog.known("Opportunty") and catalog.field("Opportunty", "StageName") is None


def spec_with(**over: Any) -> WorkflowSpec:
    base: dict[str, Any] = {
        "id": "probe",
        "name": "Probe",
        "owner": "U0OLIVIA",
        "trigger": "nightly",
        "inputs": ["calls"],
        "task": "Propose updates",
        "level": "crm_write",
        "allowed_outputs": {
            "kinds": ["field_update"],
            "fields": ["Opportunity.StageName", "Opportunity.Amount"],
        },
        "failure_modes": ["stale data"],
        "success_metric": "accuracy",
    }
    return WorkflowSpec.model_validate(base | over)


def test_spec_problems_report_missing_hidden_and_read_only_fields(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.hide_field("Opportunity", "Amount")
    fields = ["Opportunity.StageName", "Opportunity.Amount", "Opportunity.Renewal__c"]
    spec = spec_with(
        allowed_outputs={"kinds": ["field_update"], "fields": [*fields, "Opportunity.Id"]},
        writeback={"authority_field": "Airlock_Authority__c"},
    )
    catalog = FieldCatalog(client)
    assert catalog.refresh(["Opportunity"]) == {}
    found = {(p.where, p.field): p.message for p in spec_problems(spec, catalog)}
    assert set(found) == {
        ("allowed_outputs.fields", "Opportunity.Amount"),
        ("allowed_outputs.fields", "Opportunity.Renewal__c"),
        ("allowed_outputs.fields", "Opportunity.Id"),
        ("writeback.authority_field", "Opportunity.Airlock_Authority__c"),
    }
    assert "field-level security" in found[("allowed_outputs.fields", "Opportunity.Amount")]
    assert "read-only" in found[("allowed_outputs.fields", "Opportunity.Id")]


def test_spec_problems_none_when_metadata_unknown() -> None:
    spec = spec_with(allowed_outputs={"kinds": ["field_update"], "fields": ["Opportunity.Nope"]})
    assert spec_problems(spec, FieldCatalog()) == []


def post_raw(rt: Runtime, agent_key: str, body: dict[str, Any]) -> str:
    result = submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
    return str(result.body["id"])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"field": "CloseDate", "value": "next Friday"}, "CloseDate expects a date YYYY-MM-DD"),
        ({"field": "CloseDate", "value": "2026-02-30"}, "CloseDate expects a date"),
        ({"field": "Amount", "value": "lots"}, "Amount expects a number (currency, 2 decimal"),
        ({"field": "Amount", "value": 1e17}, "at most 16 digits before the point"),
        ({"field": "Amount", "value": True}, "Amount expects a number"),
        ({"field": "StageName", "value": "Negotiation"}, "StageName expects one of Prospecting"),
        ({"field": "NextStep", "value": "x" * 256}, "NextStep expects at most 255 characters"),
    ],
)
def test_intake_refuses_value_the_field_cannot_hold(
    rt: Runtime, agent_key: str, client: SalesforceClient, change: dict[str, Any], words: str
) -> None:
    described(rt, client)
    with pytest.raises(InvalidInput) as info:
        post_raw(rt, agent_key, update_body(OPP, [change], idempotency_key="k"))
    assert info.value.status == 422
    assert words in info.value.detail
    assert info.value.extra["errors"][0]["field"] == "changes.0.value"


@pytest.mark.parametrize(
    "change",
    [
        {"field": "CloseDate", "value": "2027-01-31"},
        {"field": "Amount", "value": 91234.567},  # extra decimals: the org rounds or keeps them
        {"field": "Amount", "value": "90000"},
        {"field": "StageName", "value": "Id. Decision Makers"},
        {"field": "NextStep", "value": None},
    ],
)
def test_intake_accepts_values_the_field_can_hold(
    rt: Runtime, agent_key: str, client: SalesforceClient, change: dict[str, Any]
) -> None:
    described(rt, client)
    assert post_raw(rt, agent_key, update_body(OPP, [change]))


def test_intake_without_metadata_accepts_as_before(rt: Runtime, agent_key: str) -> None:
    assert not rt.fields.known("Opportunity")
    change = {"field": "StageName", "value": "Negotiation"}
    assert post_raw(rt, agent_key, update_body(OPP, [change]))


def test_intake_refuses_field_hidden_from_integration_user(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.hide_field("Opportunity", "NextStep")
    described(rt, client)
    with pytest.raises(InvalidInput) as info:
        post_raw(rt, agent_key, update_body(OPP, [{"field": "NextStep", "value": "Call"}]))
    assert "Opportunity.NextStep does not exist in Salesforce or is hidden" in info.value.detail


def test_invalid_field_on_write_marks_cache_stale(
    rt: Runtime, agent_key: str, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    described(rt, client)
    assert rt.fields.due(["Opportunity"], rt.clock()) == []
    item_id = approved(rt, agent_key, update_body(OPP, [{"field": "NextStep", "value": "Call"}]))
    standin.hide_field("Opportunity", "NextStep")  # field-level security changed after intake
    settle(rt, write_worker(rt, client))
    assert load(rt, item_id).writeback_state == "failed"
    assert rt.fields.due(["Opportunity"], rt.clock()) == ["Opportunity"]


def field_notices(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    return [row.payload | {"workflow": row.workflow_id} for row in rows]


def test_refresh_warns_each_owner_once(
    rt: Runtime, standin: SalesforceStandin, client: SalesforceClient
) -> None:
    standin.hide_field("Opportunity", "NextStep")
    rt.fields.client = client
    assert field_check.refresh(rt) is True
    assert field_check.refresh(rt) is False  # fresh: nothing described, nobody told again
    notices = field_notices(rt)
    assert sorted(n["workflow"] for n in notices) == ["opp-hygiene", "renewal-risk"]
    opp = next(n for n in notices if n["workflow"] == "opp-hygiene")
    assert opp["to"] == "U0OLIVIA"
    assert "allowed_outputs.fields: Opportunity.NextStep does not exist" in opp["text"]
    rt.fields.invalidate()
    assert field_check.refresh(rt) is True
    assert len(field_notices(rt)) == 2  # the same problems are not repeated


def test_refresh_without_problems_tells_nobody(rt: Runtime, client: SalesforceClient) -> None:
    rt.fields.client = client
    assert field_check.refresh(rt) is True
    assert field_notices(rt) == []
    assert rt.fields.known("Opportunity")


def test_workflows_check_salesforce_names_file_line_and_field(
    rt: Runtime, env: dict[str, str], standin: SalesforceStandin, tmp_path: Path
) -> None:
    clean = airlock(env, "workflows", "check", "--salesforce", cwd=tmp_path)  # local stand-in
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.count("ok ") == 5
    path = rt.settings.workflows_dir / "opp-hygiene.yml"
    path.write_text(path.read_text().replace("Opportunity.Amount]", "Opportunity.Forecast__c]"))
    path.write_text(path.read_text().replace("[Opportunity.Amount, ", "[Opportunity.Forecast__c, "))
    standin.hide_field("Opportunity", "NextStep")
    org = env | {"SALESFORCE_INSTANCE_URL": standin.instance_url}
    org |= {"SALESFORCE_ACCESS_TOKEN": DEFAULT_TOKEN}
    assert airlock(org, "workflows", "check", cwd=tmp_path).returncode == 0  # no metadata read
    result = airlock(org, "workflows", "check", "--salesforce", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{path}:12: allowed_outputs.fields: Opportunity.Forecast__c does not exist" in (
        result.stderr
    )
    assert f"{path}:12: allowed_outputs.fields: Opportunity.NextStep does not exist" in (
        result.stderr
    )
    assert "renewal-risk.yml:12: allowed_outputs.fields: Opportunity.NextStep" in result.stderr
    assert f"ok    {path}" not in result.stdout
    assert standin.calls_matching("GET", "/sobjects/Opportunity/describe")


def test_spec_reload_is_checked_against_cached_metadata(
    rt: Runtime, client: SalesforceClient, workflows_dir: Path
) -> None:
    rt.fields.client = client
    assert field_check.refresh(rt) is True
    outputs = {"kinds": ["field_update"], "fields": ["Opportunity.NextStep", "Opportunity.Nxt"]}
    respec(rt, workflows_dir, allowed_outputs=outputs, gate=[])
    assert field_check.refresh(rt) is True  # a new spec version: checked without a describe
    (notice,) = field_notices(rt)
    assert (
        notice["workflow"] == "opp-hygiene" and "Opportunity.Nxt does not exist" in notice["text"]
    )


def test_failed_describe_is_retried_after_a_pause_not_every_tick(
    standin: SalesforceStandin, client: SalesforceClient
) -> None:
    catalog = FieldCatalog(client)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    standin.inject("503", match="sobjects")
    assert "SERVER_UNAVAILABLE" in catalog.refresh(["Opportunity"], start)["Opportunity"]
    assert not catalog.known("Opportunity")
    assert catalog.due(["Opportunity"], start + timedelta(seconds=5)) == []
    retry_at = start + RETRY_AFTER
    assert catalog.due(["Opportunity"], retry_at) == ["Opportunity"]
    assert catalog.refresh(["Opportunity"], retry_at) == {}
    assert catalog.due(["Opportunity"], retry_at + timedelta(minutes=59)) == []
    assert catalog.due(["Opportunity"], retry_at + MAX_AGE) == ["Opportunity"]


def test_api_only_replica_keeps_field_metadata_fresh(rt: Runtime, agent_key: str) -> None:
    rt.settings = rt.settings.model_copy(update={"workers": False})  # AIRLOCK_WORKERS=false
    svc = build_service(rt.settings, rt)
    try:
        svc.start()
        deadline = time.monotonic() + 10
        while not rt.fields.known("Opportunity") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.fields.known("Opportunity")
        change = {"field": "StageName", "value": "Negotiation"}
        with pytest.raises(InvalidInput):
            post_raw(rt, agent_key, update_body(OPP, [change], idempotency_key="k"))
        item_id = post_raw(rt, agent_key, update_body(OPP, [{**change, "value": "Closed Won"}]))
        time.sleep(0.5)  # several ticks: an API-only replica delivers nothing itself
        with rt.db.read() as session:
            row = session.exec(select(Outbox).where(col(Outbox.item_id) == item_id)).one()
        assert row.status == "pending"
    finally:
        svc.stop()


def test_invalid_field_in_a_record_result_marks_cache_stale(
    rt: Runtime, agent_key: str, client: SalesforceClient, workflows_dir: Path
) -> None:
    respec(rt, workflows_dir, writeback={"authority_field": "Missing_Field__c"})
    described(rt, client)
    stage = {"field": "StageName", "value": "Closed Won", "observed": "Proposal/Price Quote"}
    item_id = approved(rt, agent_key, update_body(OPP, [stage]))
    settle(rt, write_worker(rt, client))
    assert load(rt, item_id).writeback_state == "failed"
    assert "INVALID_FIELD" in outcome(rt, item_id)["error"]
    assert rt.fields.due(["Opportunity"], rt.clock()) == ["Opportunity"]
