"""The v1 intake body: what an agent may send, validated before anything is stored."""

from __future__ import annotations

import math
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.base.levels import Kind

Scalar = str | int | float | bool | None
_SOBJECT = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
# 15 letters and digits, then for the 18-character form a case-safe suffix: letters or 0-5, the
# alphabet Salesforce encodes it in ("ID Field Type", SOAP API Developer Guide; bot.salesforce.ids).
_SFID = r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$"


class _Strict(BaseModel):
    # Python's json reads NaN and Infinity; no float field may hold them (Salesforce cannot).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _finite(value: object) -> object:
    """Refuse NaN, Infinity and -Infinity (Python's json accepts them; JSON itself has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}: send a number or null")
    return value


class Source(_Strict):
    """Evidence the agent used: a title, and a link or an excerpt."""

    title: str = Field(min_length=1, max_length=300)
    url: str | None = Field(None, max_length=2000, pattern=r"^https?://\S+$")
    excerpt: str | None = Field(None, max_length=4000)


class RecordRef(_Strict):
    """The Salesforce record an item is about."""

    sobject: str = Field(pattern=_SOBJECT)
    id: str = Field(pattern=_SFID)


class Change(_Strict):
    """One proposed field change; `observed` is the value the agent saw when it decided."""

    field: str = Field(min_length=1, max_length=120)
    value: Scalar
    observed: Scalar = None

    _finite_values = field_validator("value", "observed", mode="before")(_finite)

    @property
    def observed_given(self) -> bool:
        """Whether the agent told us what it saw (a conflict check needs it)."""
        return "observed" in self.model_fields_set


class TaskDraft(_Strict):
    """A Salesforce Task the agent proposes."""

    subject: str = Field(min_length=1, max_length=255)
    due_date: date | None = None
    description: str = Field("", max_length=32000)

    @field_validator("due_date", mode="before")
    @classmethod
    def _iso_date_only(cls, value: object) -> object:
        # pydantic reads a number as Unix time: 0 would become 1970-01-01.
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a date written YYYY-MM-DD, e.g. 2026-12-01")
        return value


class MessageDraft(_Strict):
    """A message the agent drafted for a human to send."""

    to: list[str] = Field(min_length=1, max_length=20)
    subject: str = Field("", max_length=500)
    body: str = Field(min_length=1, max_length=20000)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Submission(_Strict):
    """One agent output, as posted to /api/v1/items."""

    workflow: str = Field(min_length=1, max_length=64)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)
    kind: Kind
    title: str = Field(min_length=1, max_length=255)
    summary: str = Field("", max_length=20000)
    reasons: list[str] = Field(default_factory=list, max_length=50)
    sources: list[Source] = Field(default_factory=list, max_length=50)
    confidence: float | None = Field(None, ge=0, le=1)
    record: RecordRef | None = None
    changes: list[Change] = Field(default_factory=list, max_length=100)
    task: TaskDraft | None = None
    message: MessageDraft | None = None
    assignee: str | None = Field(None, max_length=200)
    # Region, industry, account tier...: report, stats and outcomes break down by it.
    segment: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _content_matches_kind(self) -> Self:
        if self.changes and self.record is None:
            raise ValueError("changes need a record: add record {sobject, id}")
        if self.kind is Kind.FIELD_UPDATE and not self.changes:
            raise ValueError("a field_update needs at least one entry in changes")
        if self.kind is Kind.TASK and self.task is None:
            raise ValueError("a task item needs task {subject, due_date, description}")
        if self.kind is Kind.MESSAGE_DRAFT and self.message is None:
            raise ValueError("a message_draft needs message {to, subject, body}")
        seen: set[str] = set()
        for name in self.qualified_fields():
            if name in seen:
                raise ValueError(f"changes: {name} appears twice; send one change per field")
            seen.add(name)
        return self

    def qualified_fields(self) -> list[str]:
        """Each change's field as `SObject.Field`."""
        sobject = self.record.sobject if self.record else ""
        return [qualify(sobject, c.field) for c in self.changes]


def qualify(sobject: str, field: str) -> str:
    """`StageName` on an Opportunity -> `Opportunity.StageName` (already-qualified names pass)."""
    return field if "." in field else f"{sobject}.{field}"
