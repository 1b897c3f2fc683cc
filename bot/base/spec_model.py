"""The operating spec schema: one pydantic model per section of a workflow YAML file."""

from __future__ import annotations

import itertools
import re
from datetime import time, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.base.durations import format_duration, parse_duration
from bot.base.levels import KIND_LEVEL, Gate, Kind, Level, Mode
from bot.base.spec_outcome import QUALIFIED, OutcomeMetric, OutcomeSpec, qualified

__all__ = ["OutcomeMetric", "OutcomeSpec", "format_duration", "parse_duration"]
_FIELD = re.compile(QUALIFIED)

REQUIRABLE = frozenset(
    {"summary", "reasons", "sources", "confidence", "record", "changes", "task", "message"}
)
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
OnFail = Literal["warn", "escalate", "block"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowedOutputs(_Section):
    """Which kinds the agent may submit and, for CRM writes, exactly which fields."""

    kinds: list[Kind] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    # The sObjects tasks may be created on (None: any record the agent names).
    task_on: list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]] | None = None

    @field_validator("fields")
    @classmethod
    def _fields_are_qualified(cls, fields: list[str]) -> list[str]:
        for name in fields:
            if not _FIELD.match(name):
                raise ValueError(
                    f"{name!r} must be written SObject.Field, e.g. Opportunity.StageName"
                )
        return fields


class GateWhen(_Section):
    """Conditions of a gate rule; a rule matches when any given condition holds."""

    fields_any: list[str] | None = None
    confidence_below: float | None = Field(None, ge=0, le=1)
    amount_over: float | None = None
    kinds: list[Kind] | None = None
    text_matches: list[str] | None = None
    recipients_match: list[str] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not any(v is not None for v in self.__dict__.values()):
            raise ValueError(
                "a rule needs at least one condition: fields_any, confidence_below, amount_over, "
                "kinds, text_matches or recipients_match"
            )
        for pattern in (self.text_matches or []) + (self.recipients_match or []):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return self


class GateRule(_Section):
    """Raise the gate to `gate` when the conditions match."""

    when: GateWhen
    gate: Gate
    reason: str | None = None


class GroundedCheck(_Section):
    """At least `min_sources` sources, optionally each with a URL."""

    min_sources: int = Field(1, ge=0)
    require_url: bool = False
    on_fail: OnFail = "warn"


class BannedTermsCheck(_Section):
    """None of these words or phrases anywhere in the item's text."""

    terms: list[str] = Field(min_length=1)
    on_fail: OnFail = "block"


class ConfidenceCheck(_Section):
    """The agent's confidence is given and at least `min`."""

    min: float = Field(0.5, ge=0, le=1)
    on_fail: OnFail = "escalate"


class RequiredCheck(_Section):
    """Explain-why content each kind must carry (defaults in bot.core.checks)."""

    fields: dict[Kind, list[str]] = Field(default_factory=dict)
    on_fail: OnFail = "block"

    @field_validator("fields")
    @classmethod
    def _known_content(cls, fields: dict[Kind, list[str]]) -> dict[Kind, list[str]]:
        for names in fields.values():
            unknown = sorted(set(names) - REQUIRABLE)
            if unknown:
                raise ValueError(
                    f"cannot require {', '.join(unknown)}: choose from "
                    f"{', '.join(sorted(REQUIRABLE))}"
                )
        return fields


class Checks(_Section):
    """Quality checks run on every item at intake."""

    grounded: GroundedCheck | None = None
    banned_terms: BannedTermsCheck | None = None
    confidence: ConfidenceCheck | None = None
    required: RequiredCheck = RequiredCheck()


class QuietHours(_Section):
    """No reminders between `start` and `end` in the reviewer's own time zone."""

    start: time = time(19, 0)
    end: time = time(8, 0)
    weekends: bool = True


class Escalation(_Section):
    """How long an unanswered item waits before reminder, escalation and expiry."""

    remind_after: Duration | None = None
    escalate_after: Duration | None = None
    expire_after: Duration | None = None
    quiet_hours: QuietHours | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        steps = [s for s in (self.remind_after, self.escalate_after, self.expire_after) if s]
        if any(a >= b for a, b in itertools.pairwise(steps)):
            raise ValueError("remind_after < escalate_after < expire_after must hold")
        return self


class Review(_Section):
    """How reviews reach people: many items at once arrive as one bundle message."""

    # More than this many items for one reviewer from one workflow within `bundle_window`
    # arrive as one bundle message (None: every item gets its own card).
    bundle_after: int | None = Field(None, ge=1)
    bundle_window: Duration = timedelta(minutes=10)


class AutoPause(_Section):
    """Thresholds that press the stop button by themselves."""

    reject_rate_over: float | None = Field(None, gt=0, le=1)
    window: int = Field(20, ge=1)
    min_decisions: int = Field(10, ge=1)
    writeback_failures: int | None = Field(None, ge=1)
    check_failures: int | None = Field(None, ge=1)
    # share of the last `window` written items reverted (undone, or changed back by a person)
    revert_rate_over: float | None = Field(None, gt=0, le=1)


class Promote(_Section):
    """The evidence `/airlock promote` needs, and whose loss takes autopilot back."""

    min_decisions: int = Field(50, ge=1)
    min_wilson: float = Field(0.9, ge=0, le=1)
    max_revert_rate: float = Field(0.05, ge=0, le=1)
    non_inferiority_margin: float = Field(0.05, ge=0, le=1)


class Writeback(_Section):
    """How confirmed items reach Salesforce, and which fields carry provenance."""

    enabled: bool = True
    authority_field: str | None = None
    item_field: str | None = None
    # a Task field (ideally a unique External ID) holding the item id: how a retry finds the Task
    task_item_field: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    # `airlock revert`: how long after the write it may be undone, and what becomes of the Task
    undo_window: Duration = timedelta(days=7)
    task_on_revert: Literal["close", "delete"] = "close"


class WorkflowSpec(_Section):
    """An agent operating spec: the seed's ten questions, made executable."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    trigger: str = Field(min_length=1)
    inputs: list[str] = Field(min_length=1)
    task: str = Field(min_length=1)
    level: Level
    mode: Mode = Mode.REVIEW
    allowed_outputs: AllowedOutputs
    gate: list[GateRule] = Field(default_factory=list)
    checks: Checks = Checks()
    writeback: Writeback = Writeback()
    escalation: Escalation = Escalation()
    review: Review = Review()
    auto_pause: AutoPause = AutoPause()
    promote: Promote = Promote()
    callback_url: str | None = Field(None, pattern=r"^https?://")
    # The environment variable holding this workflow's Standard Webhooks secret (`whsec_...`);
    # unset: AIRLOCK_WEBHOOK_SECRET signs its events.
    callback_secret_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    failure_modes: list[str] = Field(min_length=1)
    success_metric: str = Field(min_length=1)
    description: str | None = None
    outcome: OutcomeSpec = OutcomeSpec()
    # Read from Salesforce when the item's own `segment` is not given, e.g. Account.Industry.
    segment_by: str | None = None

    @field_validator("segment_by")
    @classmethod
    def _segment_field(cls, name: str | None) -> str | None:
        return None if name is None else qualified(name)

    @model_validator(mode="after")
    def _outputs_fit_level(self) -> Self:
        for kind in self.allowed_outputs.kinds:
            if KIND_LEVEL[kind].rank > self.level.rank:
                raise ValueError(
                    f"allowed_outputs.kinds: {kind.value!r} is a {KIND_LEVEL[kind].value} output, "
                    f"above the workflow level {self.level.value!r}: raise level or drop the kind"
                )
        if Kind.FIELD_UPDATE in self.allowed_outputs.kinds and not self.allowed_outputs.fields:
            raise ValueError(
                "allowed_outputs.fields: field_update is allowed but no fields are: list the exact "
                "SObject.Field names the agent may change"
            )
        self._gate_fields_allowlisted()
        return self

    def _gate_fields_allowlisted(self) -> None:
        # A change outside the allowlist is refused before any gate rule runs, so a rule naming
        # such a field can never fire: almost always a typo (Opportunity.Amout) that would send
        # an Amount change to the rep instead of the manager.
        allowed = set(self.allowed_outputs.fields)
        for index, rule in enumerate(self.gate):
            for position, name in enumerate(rule.when.fields_any or []):
                if name not in allowed:
                    raise ValueError(
                        f"gate.{index}.when.fields_any.{position}: {name} is not in "
                        "allowed_outputs.fields, so this rule can never match: fix the spelling "
                        "or add the field to allowed_outputs.fields"
                    )
