"""What a metric says of a value: changed, not_empty and equals."""

from __future__ import annotations

from bot.base.spec_model import OutcomeMetric
from bot.core.outcome_values import outcome_of, same


def metric(**test: object) -> OutcomeMetric:
    return OutcomeMetric.model_validate({"name": "m", "field": "Opportunity.StageName", **test})


def test_changed_compares_with_the_baseline() -> None:
    changed = metric(changed=True)
    assert outcome_of([changed], {"StageName": "B"}, {"StageName": "A"}) == {"m": True}
    assert outcome_of([changed], {"StageName": "A"}, {"StageName": "A"}) == {"m": False}
    assert outcome_of([changed], {"StageName": "B"}, {}) == {"m": False}  # no baseline read


def test_not_empty_and_equals() -> None:
    assert outcome_of([metric(not_empty=True)], {"StageName": "  "}, {}) == {"m": False}
    assert outcome_of([metric(not_empty=True)], {"StageName": "x"}, {}) == {"m": True}
    won = metric(equals="Closed Won")
    assert outcome_of([won], {"StageName": "Closed Won"}, {}) == {"m": True}
    assert outcome_of([won], {"StageName": "Closed Lost"}, {}) == {"m": False}
    assert outcome_of([won], None, {}) == {"m": False}  # the record is gone


def test_same_reads_numbers_as_salesforce_does() -> None:
    assert same(5, 5.0) and not same("5", 5) and not same(True, 1) and same(None, None)
