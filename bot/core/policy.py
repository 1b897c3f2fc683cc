"""Classify an item by action level, enforce the allowlist, and decide its gate and status."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.base.errors import InvalidInput
from bot.base.levels import (
    DEFAULT_GATE,
    KIND_LEVEL,
    NEVER_AUTO,
    Gate,
    Level,
    Mode,
    Status,
    max_gate,
    max_level,
)
from bot.base.record_ids import prefix_problem
from bot.base.spec_model import GateWhen, WorkflowSpec
from bot.base.submission import Submission
from bot.base.textnorm import variants
from bot.core.checks import CheckResult, item_text, run_checks


class OutputNotAllowed(Exception):
    """The agent asked for something its workflow does not permit; nothing is stored."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Verdict:
    """What policy decided for one submission."""

    level: Level
    gate: Gate
    status: Status
    gate_reasons: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)


def item_level(sub: Submission) -> Level:
    """The level that follows from what the item does, not from what the agent calls it."""
    levels = [KIND_LEVEL[sub.kind]]
    if sub.changes:
        levels.append(Level.CRM_WRITE)
    if sub.task:
        levels.append(Level.TASK)
    if sub.message:
        levels.append(Level.EXTERNAL_MESSAGE)
    return max_level(*levels)


def enforce_allowlist(sub: Submission, spec: WorkflowSpec, level: Level) -> None:
    """Raise OutputNotAllowed naming every kind, field or level outside the spec."""
    allowed = spec.allowed_outputs
    problems = []
    if sub.kind not in allowed.kinds:
        kinds = ", ".join(k.value for k in allowed.kinds)
        problems.append(f"kind {sub.kind.value!r} is not allowed by {spec.id} (allowed: {kinds})")
    outside = [f for f in sub.qualified_fields() if f not in allowed.fields]
    if outside:
        fields = ", ".join(allowed.fields) or "none"
        problems.append(f"field {', '.join(outside)} is not in the allowlist (allowed: {fields})")
    problems += _record_problems(sub, allowed.task_on)
    if level.rank > spec.level.rank:
        problems.append(
            f"this item is a {level.value} action, above the workflow's level {spec.level.value}"
        )
    if problems:
        raise OutputNotAllowed(problems)


def _record_problems(sub: Submission, task_on: list[str] | None) -> list[str]:
    if sub.record is None:
        return []
    problems = []
    mismatch = prefix_problem(sub.record.sobject, sub.record.id)
    if mismatch:
        problems.append(mismatch)
    if sub.task and task_on is not None and sub.record.sobject not in task_on:
        where = ", ".join(task_on) or "no record"
        problems.append(
            f"tasks on {sub.record.sobject} are not allowed by allowed_outputs.task_on "
            f"(allowed: {where})"
        )
    return problems


def decide(
    sub: Submission, spec: WorkflowSpec, *, paused: bool, checks: list[CheckResult] | None = None
) -> Verdict:
    """Level, checks, gate and starting status of an allowed submission; `checks` when they
    were already run on this submission under this spec."""
    level = item_level(sub)
    enforce_allowlist(sub, spec, level)
    checks = run_checks(sub, spec.checks) if checks is None else checks
    gate, reasons = _gate(sub, spec, level, checks)
    return Verdict(level, gate, _status(spec, gate, paused), reasons, checks)


def regate(raw: str, edits: dict[str, Any], spec: WorkflowSpec) -> tuple[Gate, list[str]]:
    """The gate the item would get had the agent sent the reviewer's values (rules and checks).

    `raw` is the stored submission; `edits` maps editable names (`Amount`, `task.subject`,
    `message.body`, `summary`) to the reviewer's values.
    """
    data = json.loads(raw)
    for name, value in edits.items():
        head, _, rest = name.partition(".")
        if head in ("task", "message") and rest and isinstance(data.get(head), dict):
            data[head][rest] = value
        elif name == "summary":
            data["summary"] = value
        else:
            for change in data.get("changes") or []:
                if str(change.get("field", "")).split(".")[-1] == name:
                    change["value"] = value
    try:
        sub = Submission.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors()[:3])
        raise InvalidInput(f"the edited values are not valid: {problems}") from None
    level = item_level(sub)
    return _gate(sub, spec, level, run_checks(sub, spec.checks))


def _gate(
    sub: Submission, spec: WorkflowSpec, level: Level, checks: list[CheckResult]
) -> tuple[Gate, list[str]]:
    gate = DEFAULT_GATE[level]
    reasons = [f"{level.value} defaults to {gate.value}"]
    if spec.mode is Mode.AUTOPILOT and level not in NEVER_AUTO and gate is not Gate.AUTO:
        gate = Gate.AUTO
        reasons.append("autopilot earned: lowered to auto")
    for rule in spec.gate:
        if rule.gate.rank > gate.rank and rule_matches(rule.when, sub):
            gate = rule.gate
            reasons.append(f"rule -> {rule.gate.value}: {rule.reason or _describe(rule.when)}")
    for check in checks:
        if check.passed or check.on_fail == "warn":
            continue
        target = Gate.BLOCK if check.on_fail == "block" else Gate.MANAGER
        gate = max_gate(gate, target)
        reasons.append(f"check {check.name} failed -> {target.value}: {check.detail}")
    return gate, reasons


def _status(spec: WorkflowSpec, gate: Gate, paused: bool) -> Status:
    # Shadow mode records what would have happened and routes nothing, not even a block notice.
    if spec.mode is Mode.SHADOW:
        return Status.SHADOWED
    if gate is Gate.BLOCK:
        return Status.BLOCKED
    if paused:
        return Status.HELD
    return Status.AUTO_ACCEPTED if gate is Gate.AUTO else Status.PENDING


def rule_matches(when: GateWhen, sub: Submission) -> bool:
    """A rule matches when any of its conditions holds."""
    fields = set(sub.qualified_fields())
    tests = [
        when.fields_any is not None and bool(fields & set(when.fields_any)),
        when.confidence_below is not None
        and (sub.confidence is None or sub.confidence < when.confidence_below),
        when.amount_over is not None and _amount(sub) > when.amount_over,
        when.kinds is not None and sub.kind in when.kinds,
        when.text_matches is not None and _any_match(when.text_matches, [item_text(sub)]),
        when.recipients_match is not None
        and _any_match(when.recipients_match, sub.message.to if sub.message else []),
    ]
    return any(tests)


def _amount(sub: Submission) -> float:
    amounts = [as_number(c.value) for c in sub.changes if c.field.split(".")[-1] == "Amount"]
    return max((a for a in amounts if a is not None), default=0.0)


def as_number(value: object) -> float | None:
    """A finite number from a JSON number or a numeric string ("150000", "150,000.50")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("_", "")
        if not _NUMBER.match(value):
            return None
    if not isinstance(value, int | float | str):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _any_match(patterns: list[str], texts: list[str]) -> bool:
    # Tried on the text and on its skeletons, so look-alike Unicode cannot dodge a rule.
    forms = [form for text in texts for form in variants(text)]
    return any(re.search(p, t) for p in patterns for t in forms)


def _describe(when: GateWhen) -> str:
    given = {k: v for k, v in when.model_dump(mode="json").items() if v is not None}
    return ", ".join(f"{k} {v}" for k, v in given.items())
