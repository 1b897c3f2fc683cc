"""What a metric says of a record: the yes/no of `changed`, `not_empty` and `equals`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.base.spec_model import OutcomeMetric


def met(metric: OutcomeMetric, value: Any, baseline: Mapping[str, Any]) -> bool:
    """Whether the record's value at the end of the window meets the metric."""
    if metric.changed:
        field = metric.name_in_sobject
        # No baseline (the first read failed for good): a change cannot be shown, so it is not.
        return field in baseline and not same(value, baseline[field])
    if metric.not_empty:
        return value is not None and str(value).strip() != ""
    return same(value, metric.equals)


def same(left: Any, right: Any) -> bool:
    """Equal as Salesforce values: 5 and 5.0 are the same number, "5" is not a number."""
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers):
        if isinstance(left, bool) or isinstance(right, bool):
            return left is right
        return float(left) == float(right)
    return bool(left == right)


def outcome_of(
    metrics: list[OutcomeMetric], values: Mapping[str, Any] | None, baseline: Mapping[str, Any]
) -> dict[str, bool]:
    """Each metric's yes/no; a record that is gone (deleted, or hidden) meets none."""
    if values is None:
        return {metric.name: False for metric in metrics}
    return {m.name: met(m, values.get(m.name_in_sobject), baseline) for m in metrics}
