"""The Salesforce stand-in refuses, for the whole request, a body real Salesforce cannot
deserialize (unknown field, unreadable date/datetime/number) and a SOQL query naming a column
the integration user cannot see; SOQL compares datetimes (a Task's creation window)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.salesforce.client import SalesforceClient, SalesforceError, soql_literal
from bot.salesforce.soql_text import soql_datetime
from bot.sandbox.salesforce_seed import make_id
from bot.sandbox.salesforce_standin import SalesforceStandin

OPP, OTHER = make_id("Opportunity", 1), make_id("Opportunity", 2)


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        ("Forecast__c", "Q1", "INVALID_FIELD", "No such column 'Forecast__c' on sobject"),
        ("CloseDate", "next Friday", "JSON_PARSER_ERROR", "instance of date from VALUE_STRING"),
        ("CloseDate", "2027-01-15 00:00:00", "JSON_PARSER_ERROR", "value 2027-01-15 00:00:00"),
        ("CreatedDate", "2027-01-15 09:30:00", "JSON_PARSER_ERROR", "instance of datetime"),
        ("Amount", "a lot", "JSON_PARSER_ERROR", "instance of double from VALUE_STRING"),
        ("Amount", True, "JSON_PARSER_ERROR", "from VALUE_TRUE value True"),
    ],
)
def test_refuse_whole_collection_for_undeserializable_body(
    standin: SalesforceStandin,
    client: SalesforceClient,
    field: str,
    value: Any,
    code: str,
    message: str,
) -> None:
    records = [{"Id": OTHER, "NextStep": "fine"}, {"Id": OPP, field: value}]
    with pytest.raises(SalesforceError) as refused:
        client.update_records("Opportunity", records)
    error = refused.value
    assert (error.status, error.error_code, error.kind) == (400, code, "fatal")
    assert message in error.message
    assert standin.applied_writes() == []  # not even the healthy record was saved


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CloseDate", "2027-01-15"),
        ("CloseDate", None),
        ("Amount", "1250.50"),
        ("Amount", 99),
        ("NextStep", 42),
    ],
)
def test_accept_values_salesforce_reads(
    standin: SalesforceStandin, client: SalesforceClient, field: str, value: Any
) -> None:
    [result] = client.update_records("Opportunity", [{"Id": OPP, field: value}])
    assert result.success, result
    assert [set(w.fields) for w in standin.applied_writes()] == [{field}]


def test_refuse_datetime_with_space_on_create(client: SalesforceClient) -> None:
    with pytest.raises(SalesforceError) as refused:
        client.create("Task", {"Subject": "Call", "ActivityDate": "2027-01-15 10:00"})
    assert (refused.value.status, refused.value.error_code) == (400, "JSON_PARSER_ERROR")


def test_refuse_soql_on_missing_column(client: SalesforceClient) -> None:
    with pytest.raises(SalesforceError) as refused:
        client.read_fields("Opportunity", [OPP], ["StageName", "Forecast__c"])
    error = refused.value
    assert (error.status, error.error_code) == (400, "INVALID_FIELD")
    assert "No such column 'Forecast__c' on entity 'Opportunity'" in error.message


def test_compare_datetimes_in_soql(client: SalesforceClient) -> None:
    task_id = client.create("Task", {"Subject": "Call", "WhatId": OPP})
    now = datetime.now(UTC)
    query = "SELECT Id FROM Task WHERE WhatId = {} AND CreatedDate {} {}"
    since = soql_datetime(now - timedelta(minutes=1))
    assert client.query(query.format(soql_literal(OPP), ">=", since)) == [{"Id": task_id}]
    later = soql_datetime(now + timedelta(minutes=1))
    assert client.query(query.format(soql_literal(OPP), ">=", later)) == []
    assert client.query(query.format(soql_literal(OPP), "<", later)) == [{"Id": task_id}]
