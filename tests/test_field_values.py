"""The value rules intake applies from a field's metadata, and numbers compared at its scale."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.field_values import same_at_scale, value_problem
from bot.salesforce.fields import FieldMeta

DATETIME = FieldMeta("Last_Call__c", "datetime")
FLAG = FieldMeta("Flag__c", "boolean", nillable=False)
SEATS = FieldMeta("Seats__c", "int", digits=4)
COLORS = FieldMeta("Colors__c", "multipicklist", picklist=("Red", "Blue"), restricted=True)
OWNER = FieldMeta("OwnerId", "reference", length=18)


@pytest.mark.parametrize(
    ("meta", "value"),
    [
        (DATETIME, "2026-11-20T15:30:00Z"),
        (DATETIME, "2026-11-20T15:30:00.000+0000"),
        (DATETIME, "2026-11-20T15:30:00+01:00"),
        (FLAG, False),
        (FLAG, "true"),
        (SEATS, 9999),
        (SEATS, 12.0),
        (COLORS, "Red;Blue"),
        (OWNER, "005Ai0000000001AAA"),
    ],
)
def test_value_accepted_by_field(meta: FieldMeta, value: Any) -> None:
    assert value_problem(meta, value) is None


@pytest.mark.parametrize(
    ("meta", "value", "words"),
    [
        (DATETIME, "2026-11-20 15:30:00", "ISO 8601"),
        (DATETIME, "2026-11-20", "ISO 8601"),
        (DATETIME, "2026-13-20T15:30:00Z", "ISO 8601"),
        (FLAG, "yes", "true or false"),
        (FLAG, None, "required"),
        (SEATS, 12.5, "whole number"),
        (SEATS, 10000, "at most 4 digits"),
        (COLORS, "Red;Green", "'Green'"),
        (OWNER, "Maya", "Salesforce id"),
    ],
)
def test_value_refused_by_field(meta: FieldMeta, value: Any, words: str) -> None:
    problem = value_problem(meta, value)
    assert problem is not None and words in problem


def test_same_at_scale_only_for_numbers_at_the_fields_scale() -> None:
    amount = FieldMeta("Amount", "currency", precision=18, scale=2)
    assert same_at_scale(amount, 91234.57, 91234.567)
    assert not same_at_scale(amount, 91234.56, 91234.567)
    assert not same_at_scale(None, 91234.57, 91234.567)  # unknown field: exact comparison only
    assert not same_at_scale(FieldMeta("NextStep", "string"), "1.0", "1")
