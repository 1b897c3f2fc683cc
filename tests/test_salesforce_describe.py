"""The stand-in's field metadata: describe(), field-level security and the typed write path."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.field_values import value_problem
from bot.salesforce.fields import FieldMeta
from bot.sandbox.salesforce_describe import check_values, field_answer
from bot.sandbox.salesforce_schema import METADATA
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin
from tests.test_salesforce_standin import (
    AUTH,
    OPP_1,
    OPP_2,
    api,
    composite,
    http,
    opp,
    query,
)

__all__ = ["http"]  # fixtures

DEFAULT_STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]


def stored(standin: SalesforceStandin, record_id: str) -> dict[str, Any]:
    found = standin.get("Opportunity", record_id)
    assert found is not None, record_id
    return found


def describe(http: requests.Session, standin: SalesforceStandin, sobject: str) -> Any:
    response = http.get(api(standin, f"sobjects/{sobject}/describe"), headers=AUTH, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def fields_of(answer: Any) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in answer["fields"]}


def test_describe_opportunity_types_and_default_stages(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    answer = describe(http, standin, "Opportunity")
    assert answer["name"] == "Opportunity" and answer["keyPrefix"] == "006"
    fields = fields_of(answer)
    stage = fields["StageName"]
    assert stage["type"] == "picklist" and stage["restrictedPicklist"] is True
    assert [v["value"] for v in stage["picklistValues"] if v["active"]] == DEFAULT_STAGES
    amount = fields["Amount"]
    assert (amount["type"], amount["precision"], amount["scale"]) == ("currency", 18, 2)
    assert (fields["Probability"]["type"], fields["Probability"]["scale"]) == ("percent", 0)
    assert fields["CloseDate"]["type"] == "date"
    assert (fields["NextStep"]["type"], fields["NextStep"]["length"]) == ("string", 255)
    assert fields["Id"]["updateable"] is False and fields["NextStep"]["updateable"] is True
    assert fields["AccountId"]["referenceTo"] == ["Account"]


def test_describe_every_seeded_object(http: requests.Session, standin: SalesforceStandin) -> None:
    for sobject in ("Opportunity", "Account", "Contact", "Lead", "Case", "Task", "User"):
        fields = fields_of(describe(http, standin, sobject))
        assert "Id" in fields and fields["Id"]["type"] == "id", sobject
    task = fields_of(describe(http, standin, "Task"))
    assert [v["value"] for v in task["Status"]["picklistValues"]] == [
        "Not Started",
        "In Progress",
        "Completed",
        "Waiting on someone else",
        "Deferred",
    ]
    assert fields_of(describe(http, standin, "Lead"))["OwnerId"]["referenceTo"] == ["Group", "User"]


def test_describe_unknown_sobject_is_404(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    response = http.get(api(standin, "sobjects/Opportunty/describe"), headers=AUTH, timeout=5)
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_hidden_field_absent_from_describe_and_invalid_in_soql(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    standin.hide_field("Opportunity", "NextStep")
    assert "NextStep" not in fields_of(describe(http, standin, "Opportunity"))
    answer = query(http, standin, f"SELECT Id, NextStep FROM Opportunity WHERE Id = '{OPP_1}'")
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "INVALID_FIELD"
    # an unknown field fails the whole Collections request (see bot/sandbox/salesforce_json.py)
    status, results = composite(http, standin, allOrNone=False, records=[opp(OPP_1, NextStep="x")])
    assert status == 400 and results[0]["errorCode"] == "INVALID_FIELD"
    assert stored(standin, OPP_1)["NextStep"] == "Send redlined MSA"  # value kept


def test_write_refuses_long_text_and_bad_restricted_picklist_per_record(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    opp_3 = make_id("Opportunity", 3)
    records = [
        opp(OPP_1, NextStep="x" * 256),
        opp(OPP_2, StageName="Negotiation"),
        opp(opp_3, NextStep="y" * 255, StageName="Value Proposition"),
        opp(make_id("Opportunity", 4), Name=None),
    ]
    status, results = composite(http, standin, allOrNone=False, records=records)
    assert status == 200
    too_long, bad_stage, fine, no_name = results
    assert no_name["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert too_long["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert too_long["errors"][0]["fields"] == ["NextStep"]
    assert "max length=255" in too_long["errors"][0]["message"]
    assert bad_stage["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert bad_stage["errors"][0]["fields"] == ["StageName"]
    assert fine["success"] is True
    assert stored(standin, OPP_2)["StageName"] == "Qualification"  # unchanged
    assert stored(standin, opp_3)["StageName"] == "Value Proposition"


def test_unrestricted_picklist_accepts_other_values(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    status, results = composite(http, standin, allOrNone=False, records=[opp(OPP_1, Type="Pilot")])
    assert status == 200 and results[0]["success"] is True


def test_currency_and_percent_rounded_to_scale(
    http: requests.Session, standin: SalesforceStandin
) -> None:
    records = [opp(OPP_1, Amount=1234.567, Probability=33.6)]
    status, results = composite(http, standin, allOrNone=False, records=records)
    assert status == 200 and results[0]["success"] is True
    fields = stored(standin, OPP_1)
    assert fields["Amount"] == 1234.57 and fields["Probability"] == 34
    standin.round_on_write(False)
    composite(http, standin, allOrNone=False, records=[opp(OPP_1, Amount=1234.567)])
    assert stored(standin, OPP_1)["Amount"] == 1234.567


_INTAKE_VIEW = {
    name: FieldMeta.from_describe(field_answer("Opportunity", name, spec))
    for name, spec in METADATA["Opportunity"].items()
}


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["NextStep", "StageName", "ForecastCategoryName", "Type", "Name"]),
    value=st.one_of(
        st.sampled_from([*DEFAULT_STAGES, "Negotiation", "Commit", "closed won", ""]),
        st.text(max_size=300),
    ),
)
def test_intake_accepts_only_what_the_org_writes(field: str, value: str) -> None:
    """Whatever intake lets through for a text or picklist field, the org's write path takes."""
    if value_problem(_INTAKE_VIEW[field], value) is not None:
        return
    check_values({field: value}, METADATA["Opportunity"])  # raises FieldValueError if refused
