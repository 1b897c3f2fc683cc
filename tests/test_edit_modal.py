"""The Edit modal always opens and submits, and never writes back a value it had to clip."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core import decisions
from bot.core.runtime import Runtime
from bot.sandbox.slack_blockkit import check_view
from bot.sandbox.slack_payloads import select_state, text_state
from bot.slack.blocks_views import MAX_INPUTS, edit_modal, read_edit_values
from tests.test_home_view import pending

STAGES = ["Prospecting", "Qualification", "Closed Won"]


def inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}


def shown_text(modal: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in modal["blocks"] if b["type"] == "section")


def test_edit_long_text_is_read_only_and_never_clipped() -> None:
    body = "word " * 1200  # 6,000 characters
    fields = {"message.subject": "Renewal", "message.body": body}
    modal = edit_modal("itm_1", "Title", fields)
    check_view("views.open", modal)
    assert set(inputs(modal)) == {"edit:message.subject"}
    assert "message.body" in shown_text(modal)
    assert "`/airlock trace itm_1`" in shown_text(modal)
    values, errors = read_edit_values({"edit:message.subject": text_state("Renewal 2027")}, fields)
    assert (values, errors) == ({"message.subject": "Renewal 2027"}, {})


def test_edit_many_fields_submittable() -> None:
    fields = {f"Field_{n}__c": f"value {n}" for n in range(55)}
    modal = edit_modal("itm_1", "Title", fields)
    check_view("views.open", modal)
    assert len(inputs(modal)) == MAX_INPUTS == 40
    assert "Field_54__c" in shown_text(modal)
    state = {block: text_state("changed") for block in inputs(modal)}
    values, errors = read_edit_values(state, fields)
    assert errors == {}
    assert set(values) == {f"Field_{n}__c" for n in range(40)}


def test_edit_values_slack_cannot_prefill_shown_as_text() -> None:
    fields = {"StageName": "", "Amount": 1e21, "CloseDate": "2026-02-30", "Probability": 0.5}
    modal = edit_modal("itm_1", "Title", fields, picklists={"StageName": STAGES})
    check_view("views.open", modal)  # Slack's own models and documented limits
    elements = inputs(modal)
    assert elements["edit:StageName"]["type"] == "static_select"
    assert "initial_option" not in elements["edit:StageName"]
    assert elements["edit:Amount"] == {
        "type": "plain_text_input",
        "action_id": "value",
        "initial_value": "1e+21",
    }
    assert elements["edit:CloseDate"]["type"] == "plain_text_input"
    assert elements["edit:Probability"]["initial_value"] == "0.5"
    state = {
        "edit:StageName": select_state("Closed Won"),
        "edit:Amount": text_state("1e+21"),
        "edit:CloseDate": text_state("2026-02-30"),
        "edit:Probability": text_state("0.6"),
    }
    values, errors = read_edit_values(state, fields)
    assert errors == {"edit:CloseDate": "Pick a date, e.g. 2026-12-01"}
    assert values == {"StageName": "Closed Won", "Amount": 1e21, "Probability": 0.6}


def test_edit_picklist_choices_come_from_metadata() -> None:
    fields = {"StageName": "Negotiation", "ForecastCategoryName": "Pipeline"}
    modal = edit_modal("itm_1", "Title", fields, picklists={"StageName": STAGES})
    check_view("views.open", modal)
    elements = inputs(modal)
    stage = elements["edit:StageName"]
    assert [o["value"] for o in stage["options"]] == STAGES
    assert "initial_option" not in stage  # "Negotiation" is not a value of this org's picklist
    assert "Negotiation" in str(modal)  # but the reviewer sees what the agent proposed
    assert elements["edit:ForecastCategoryName"] == {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": False,
        "initial_value": "Pipeline",
    }
    plain = inputs(edit_modal("itm_1", "Title", fields))
    assert plain["edit:StageName"]["type"] == "plain_text_input"


def test_edit_choices_from_describe_cache(rt: Runtime) -> None:
    item = pending(1)
    item.record_sobject = "Opportunity"
    item.changes = [
        {"field": "StageName", "value": "Closed Won"},
        {"field": "Colors__c", "value": "red;blue"},
        {"field": "NextStep", "value": "Call"},
    ]
    assert decisions.edit_choices(rt, item) == {}  # not described yet: typed text, no guess
    describe = {
        "fields": [
            {"name": "StageName", "type": "picklist", "picklistValues": _values(STAGES)},
            {"name": "Colors__c", "type": "multipicklist", "picklistValues": _values(["red"])},
            {"name": "NextStep", "type": "string"},
        ]
    }
    rt.fields.load("Opportunity", describe, datetime(2026, 11, 1, tzinfo=UTC))
    assert decisions.edit_choices(rt, item) == {"StageName": tuple(STAGES)}


def _values(names: list[str]) -> list[dict[str, Any]]:
    return [{"value": n, "label": n, "active": True} for n in names]
