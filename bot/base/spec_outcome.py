"""The `outcome` spec section: what is measured after an item, and against which holdout."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.base.durations import parse_duration

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
QUALIFIED = r"^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$"
MAX_HOLDOUT = 0.5
MIN_WINDOW = timedelta(minutes=1)


def qualified(name: str) -> str:
    """`name` if written SObject.Field; a ValueError saying how to write it otherwise."""
    if not re.fullmatch(QUALIFIED, name):
        raise ValueError(f"{name!r} must be written SObject.Field, e.g. Opportunity.StageName")
    return name


class OutcomeMetric(BaseModel):
    """One yes/no outcome read from a record field at the end of the window.

    `changed`: the value differs from the one read when the item arrived; `not_empty`: the field
    holds a value; `equals`: the field holds exactly this value. Exactly one of the three.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    field: str
    changed: bool | None = None
    not_empty: bool | None = None
    equals: str | int | float | bool | None = None

    @field_validator("field")
    @classmethod
    def _qualified(cls, name: str) -> str:
        return qualified(name)

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        given = [
            name for name in ("changed", "not_empty", "equals") if name in self.model_fields_set
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of changed: true, not_empty: true or equals: VALUE")
        if given[0] in ("changed", "not_empty") and getattr(self, given[0]) is not True:
            raise ValueError(f"{given[0]} must be true (leave it out to test something else)")
        return self

    @property
    def sobject(self) -> str:
        """The sObject the metric reads, e.g. Opportunity."""
        return self.field.split(".")[0]

    @property
    def name_in_sobject(self) -> str:
        """The field name without its sObject, e.g. StageName."""
        return self.field.split(".")[1]


class OutcomeSpec(BaseModel):
    """Outcomes against a holdout: read `metrics` `window` after each item; `holdout` never sees
    Airlock act. `revert_window`: how long after a write a revert is still attributed to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: Duration | None = None
    holdout: float = Field(0.0, ge=0, le=MAX_HOLDOUT)
    metrics: list[OutcomeMetric] = Field(default_factory=list)
    revert_window: Duration = timedelta(days=14)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.metrics and self.window is None:
            raise ValueError("window: required when metrics are given, e.g. window: 14d")
        if self.window is not None and self.window < MIN_WINDOW:
            raise ValueError("window: must be at least 1m: an outcome needs time to happen")
        if self.holdout and not self.metrics:
            raise ValueError("holdout: a holdout measures nothing without metrics")
        names = [metric.name for metric in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metrics: each metric needs its own name")
        return self

    @property
    def measured(self) -> bool:
        """Whether the workflow measures outcomes at all."""
        return bool(self.metrics)

    def sobjects(self) -> set[str]:
        """The sObjects the metrics read."""
        return {metric.sobject for metric in self.metrics}
