"""Policy: item level, allowlist, gate rules, autopilot, check outcomes and starting status."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.base.levels import DEFAULT_GATE, KIND_LEVEL, NEVER_AUTO, Gate, Kind, Level, Mode, Status
from bot.base.spec_model import WorkflowSpec
from bot.base.submission import Submission
from bot.core.policy import OutputNotAllowed, decide, enforce_allowlist, item_level

FIELDS = ["Opportunity.StageName", "Opportunity.Amount", "Opportunity.CloseDate"]
RECORD = {"sobject": "Opportunity", "id": "006000000000001AAA"}
TASK = {"subject": "Call the CFO", "due_date": "2026-12-01", "description": "Confirm budget"}
MESSAGE = {"to": ["rita@acme.example"], "subject": "Hello", "body": "Following up on our call."}
CHANGE = {"field": "StageName", "value": "Negotiation", "observed": "Proposal"}


def make_sub(**overrides: Any) -> Submission:
    body: dict[str, Any] = {
        "workflow": "probe",
        "kind": "recommendation",
        "title": "Next play for Acme",
        "summary": "Acme held a budget call.",
        "reasons": ["Call on 2026-11-20"],
        "sources": [{"title": "Gong call", "url": "https://gong.example/1"}],
        "confidence": 0.9,
    }
    body.update(overrides)
    if body.get("changes"):
        body.setdefault("record", RECORD)
    return Submission.model_validate(body)


def make_spec(**overrides: Any) -> WorkflowSpec:
    body: dict[str, Any] = {
        "id": "probe",
        "name": "Probe",
        "owner": "U0OLIVIA",
        "trigger": "nightly",
        "inputs": ["calls"],
        "task": "Propose updates",
        "level": "customer_decision",
        "allowed_outputs": {"kinds": [k.value for k in Kind], "fields": FIELDS},
        "failure_modes": ["stale data"],
        "success_metric": "accuracy",
    }
    body.update(overrides)
    return WorkflowSpec.model_validate(body)


BY_KIND: dict[Kind, dict[str, Any]] = {
    Kind.BRIEF: {"kind": "brief"},
    Kind.SUMMARY: {"kind": "summary"},
    Kind.RECOMMENDATION: {"kind": "recommendation"},
    Kind.TASK: {"kind": "task", "task": TASK},
    Kind.FIELD_UPDATE: {"kind": "field_update", "changes": [CHANGE]},
    Kind.MESSAGE_DRAFT: {"kind": "message_draft", "message": MESSAGE},
    Kind.DECISION: {"kind": "decision"},
}


@pytest.mark.parametrize(
    ("kind", "level", "gate"),
    [
        (Kind.BRIEF, Level.READ_ONLY, Gate.AUTO),
        (Kind.SUMMARY, Level.DRAFT, Gate.REP),
        (Kind.RECOMMENDATION, Level.RECOMMENDATION, Gate.REP),
        (Kind.TASK, Level.TASK, Gate.REP),
        (Kind.FIELD_UPDATE, Level.CRM_WRITE, Gate.REP),
        (Kind.MESSAGE_DRAFT, Level.EXTERNAL_MESSAGE, Gate.REP),
        (Kind.DECISION, Level.CUSTOMER_DECISION, Gate.MANAGER),
    ],
)
def test_decide_level_and_default_gate(kind: Kind, level: Level, gate: Gate) -> None:
    sub = make_sub(**BY_KIND[kind])
    assert item_level(sub) is level
    verdict = decide(sub, make_spec(), paused=False)
    assert (verdict.level, verdict.gate) == (level, gate)
    assert verdict.status is (Status.AUTO_ACCEPTED if gate is Gate.AUTO else Status.PENDING)
    assert verdict.gate_reasons == [f"{level.value} defaults to {gate.value}"]


@pytest.mark.parametrize(
    ("body", "level"),
    [
        ({"kind": "brief", "changes": [CHANGE]}, Level.CRM_WRITE),
        ({"kind": "recommendation", "task": TASK}, Level.TASK),
        ({"kind": "summary", "message": MESSAGE}, Level.EXTERNAL_MESSAGE),
        ({"kind": "task", "task": TASK, "changes": [CHANGE]}, Level.CRM_WRITE),
        ({"kind": "task", "task": TASK, "message": MESSAGE}, Level.EXTERNAL_MESSAGE),
        ({"kind": "field_update", "changes": [CHANGE], "message": MESSAGE}, Level.EXTERNAL_MESSAGE),
        ({"kind": "decision", "changes": [CHANGE], "task": TASK}, Level.CUSTOMER_DECISION),
    ],
)
def test_item_level_from_content(body: dict[str, Any], level: Level) -> None:
    assert item_level(make_sub(**body)) is level


def test_enforce_allowlist_kind() -> None:
    spec = make_spec(allowed_outputs={"kinds": ["recommendation", "summary"]})
    with pytest.raises(OutputNotAllowed) as info:
        enforce_allowlist(make_sub(kind="brief"), spec, Level.READ_ONLY)
    assert info.value.reasons == [
        "kind 'brief' is not allowed by probe (allowed: recommendation, summary)"
    ]


def test_enforce_allowlist_field() -> None:
    spec = make_spec(
        level="crm_write",
        allowed_outputs={"kinds": ["field_update"], "fields": ["Opportunity.StageName"]},
    )
    amount = {"field": "Amount", "value": 5, "observed": 4}
    sub = make_sub(kind="field_update", changes=[CHANGE, amount])
    with pytest.raises(OutputNotAllowed) as info:
        enforce_allowlist(sub, spec, Level.CRM_WRITE)
    assert info.value.reasons == [
        "field Opportunity.Amount is not in the allowlist (allowed: Opportunity.StageName)"
    ]


def test_enforce_allowlist_level_via_decide() -> None:
    spec = make_spec(level="recommendation", allowed_outputs={"kinds": ["recommendation"]})
    with pytest.raises(OutputNotAllowed) as info:
        decide(make_sub(task=TASK), spec, paused=False)
    assert info.value.reasons == [
        "this item is a task action, above the workflow's level recommendation"
    ]


def test_enforce_allowlist_reports_every_problem() -> None:
    spec = make_spec(level="recommendation", allowed_outputs={"kinds": ["recommendation"]})
    sub = make_sub(kind="brief", changes=[CHANGE])
    with pytest.raises(OutputNotAllowed) as info:
        enforce_allowlist(sub, spec, item_level(sub))
    assert len(info.value.reasons) == 3
    assert "field Opportunity.StageName is not in the allowlist (allowed: none)" in str(info.value)
    assert str(info.value) == "; ".join(info.value.reasons)


def test_enforce_allowlist_accepts_allowed() -> None:
    sub = make_sub(kind="field_update", changes=[CHANGE])
    enforce_allowlist(sub, make_spec(), Level.CRM_WRITE)


EXEC = {"to": ["Dana CFO <dana@acme.example>"], "subject": "Hi", "body": "Quick note."}
AMOUNT = {"field": "Amount", "value": 150000, "observed": 90000}
SMALL = {"field": "Amount", "value": 100000, "observed": 90000}


@pytest.mark.parametrize(
    ("when", "hit", "miss"),
    [
        ({"fields_any": ["Opportunity.Amount"]}, {"changes": [AMOUNT]}, {"changes": [CHANGE]}),
        ({"confidence_below": 0.6}, {"confidence": 0.59}, {"confidence": 0.6}),
        ({"confidence_below": 0.6}, {"confidence": None}, {"confidence": 0.95}),
        ({"amount_over": 100000}, {"changes": [AMOUNT]}, {"changes": [SMALL]}),
        ({"kinds": ["task"]}, {"kind": "task", "task": TASK}, {"task": TASK}),
        ({"text_matches": ["(?i)discount"]}, {"summary": "10% DISCOUNT"}, {"summary": "dis count"}),
        ({"text_matches": ["pricing"]}, {"message": {**MESSAGE, "body": "our pricing"}}, {}),
        ({"recipients_match": [r"(?i)\bcfo\b"]}, {"message": EXEC}, {"message": MESSAGE}),
        ({"recipients_match": [r"(?i)\bcfo\b"]}, {"message": EXEC}, {"summary": "the CFO"}),
    ],
)
def test_decide_gate_rule_raises(
    when: dict[str, Any], hit: dict[str, Any], miss: dict[str, Any]
) -> None:
    spec = make_spec(gate=[{"when": when, "gate": "manager", "reason": "probe rule"}])
    raised = decide(make_sub(**hit), spec, paused=False)
    assert raised.gate is Gate.MANAGER
    assert raised.gate_reasons[-1] == "rule -> manager: probe rule"
    kept = decide(make_sub(**miss), spec, paused=False)
    assert kept.gate is DEFAULT_GATE[kept.level]
    assert not any(r.startswith("rule") for r in kept.gate_reasons)


def test_decide_gate_rule_reason_describes_condition() -> None:
    spec = make_spec(gate=[{"when": {"confidence_below": 0.6}, "gate": "block"}])
    verdict = decide(make_sub(confidence=0.1), spec, paused=False)
    assert (verdict.gate, verdict.status) == (Gate.BLOCK, Status.BLOCKED)
    assert verdict.gate_reasons[-1] == "rule -> block: confidence_below 0.6"


def test_decide_gate_rule_never_lowers() -> None:
    spec = make_spec(
        gate=[
            {"when": {"kinds": ["decision", "recommendation"]}, "gate": "manager"},
            {"when": {"kinds": ["decision", "recommendation"]}, "gate": "rep"},
        ]
    )
    assert decide(make_sub(kind="decision"), spec, paused=False).gate is Gate.MANAGER
    verdict = decide(make_sub(kind="recommendation"), spec, paused=False)
    assert verdict.gate is Gate.MANAGER
    assert [r for r in verdict.gate_reasons if r.startswith("rule")] == [
        "rule -> manager: kinds ['decision', 'recommendation']"
    ]


@pytest.mark.parametrize(
    ("kind", "gate"),
    [
        (Kind.SUMMARY, Gate.AUTO),
        (Kind.RECOMMENDATION, Gate.AUTO),
        (Kind.TASK, Gate.AUTO),
        (Kind.FIELD_UPDATE, Gate.AUTO),
        (Kind.MESSAGE_DRAFT, Gate.REP),
        (Kind.DECISION, Gate.MANAGER),
    ],
)
def test_decide_autopilot_lowers_gate(kind: Kind, gate: Gate) -> None:
    verdict = decide(make_sub(**BY_KIND[kind]), make_spec(mode="autopilot"), paused=False)
    assert verdict.gate is gate
    assert ("autopilot earned: lowered to auto" in verdict.gate_reasons) is (gate is Gate.AUTO)
    assert verdict.status is (Status.AUTO_ACCEPTED if gate is Gate.AUTO else Status.PENDING)


def test_decide_autopilot_still_obeys_rules() -> None:
    spec = make_spec(mode="autopilot", gate=[{"when": {"confidence_below": 0.6}, "gate": "rep"}])
    assert decide(make_sub(confidence=0.3), spec, paused=False).gate is Gate.REP
    assert decide(make_sub(confidence=0.9), spec, paused=False).gate is Gate.AUTO


@pytest.mark.parametrize(
    ("on_fail", "kind", "gate", "status"),
    [
        ("warn", "recommendation", Gate.REP, Status.PENDING),
        ("escalate", "recommendation", Gate.MANAGER, Status.PENDING),
        ("escalate", "brief", Gate.MANAGER, Status.PENDING),
        ("block", "recommendation", Gate.BLOCK, Status.BLOCKED),
        ("block", "decision", Gate.BLOCK, Status.BLOCKED),
    ],
)
def test_decide_check_failure(on_fail: str, kind: str, gate: Gate, status: Status) -> None:
    spec = make_spec(checks={"confidence": {"min": 0.5, "on_fail": on_fail}})
    verdict = decide(make_sub(kind=kind, confidence=0.2), spec, paused=False)
    assert (verdict.gate, verdict.status) == (gate, status)
    failed = [c for c in verdict.checks if c.name == "confidence"]
    assert len(failed) == 1 and not failed[0].passed
    noted = [r for r in verdict.gate_reasons if r.startswith("check confidence failed")]
    assert len(noted) == (0 if on_fail == "warn" else 1)


def test_decide_block_check_beats_autopilot() -> None:
    spec = make_spec(mode="autopilot", checks={"banned_terms": {"terms": ["guarantee"]}})
    verdict = decide(make_sub(summary="We guarantee it."), spec, paused=False)
    assert (verdict.gate, verdict.status) == (Gate.BLOCK, Status.BLOCKED)


@pytest.mark.parametrize("confidence", [0.9, 0.1])
def test_decide_shadow_mode(confidence: float) -> None:
    spec = make_spec(mode="shadow", checks={"confidence": {"min": 0.5, "on_fail": "block"}})
    verdict = decide(make_sub(confidence=confidence), spec, paused=True)
    assert verdict.status is Status.SHADOWED
    assert verdict.gate is (Gate.REP if confidence > 0.5 else Gate.BLOCK)


@pytest.mark.parametrize("kind", [Kind.BRIEF, Kind.RECOMMENDATION, Kind.DECISION])
def test_decide_paused_holds(kind: Kind) -> None:
    verdict = decide(make_sub(**BY_KIND[kind]), make_spec(), paused=True)
    assert verdict.status is Status.HELD
    assert verdict.gate is DEFAULT_GATE[verdict.level]


def test_decide_blocked_beats_paused() -> None:
    spec = make_spec(checks={"grounded": {"min_sources": 3, "on_fail": "block"}})
    verdict = decide(make_sub(), spec, paused=True)
    assert (verdict.gate, verdict.status) == (Gate.BLOCK, Status.BLOCKED)


RULES = [
    {"when": {"fields_any": ["Opportunity.Amount"]}, "gate": "manager"},
    {"when": {"confidence_below": 0.5}, "gate": "rep"},
    {"when": {"amount_over": 1000}, "gate": "block"},
    {"when": {"text_matches": ["(?i)price"]}, "gate": "manager"},
]


@st.composite
def submissions(draw: st.DrawFn) -> Submission:
    kind = draw(st.sampled_from(list(Kind)))
    body: dict[str, Any] = {
        "kind": kind.value,
        "confidence": draw(st.none() | st.floats(0, 1)),
        "summary": draw(st.sampled_from(["", "a price drop", "steady"])),
        "reasons": draw(st.sampled_from([[], ["r"]])),
    }
    if kind is Kind.FIELD_UPDATE or draw(st.booleans()):
        value = draw(st.integers(0, 5000))
        body["changes"] = [draw(st.sampled_from([CHANGE, {"field": "Amount", "value": value}]))]
    if kind is Kind.TASK or draw(st.booleans()):
        body["task"] = TASK
    if kind is Kind.MESSAGE_DRAFT or draw(st.booleans()):
        body["message"] = MESSAGE
    return make_sub(**body)


@given(
    sub=submissions(),
    mode=st.sampled_from(list(Mode)),
    rules=st.lists(st.sampled_from(RULES), max_size=3),
    on_fail=st.sampled_from(["warn", "escalate", "block"]),
)
def test_decide_never_below_defaults(
    sub: Submission, mode: Mode, rules: list[dict[str, Any]], on_fail: str
) -> None:
    checks = {"confidence": {"min": 0.5, "on_fail": on_fail}}
    verdict = decide(sub, make_spec(mode=mode.value, gate=rules, checks=checks), paused=False)
    assert verdict.level.rank >= KIND_LEVEL[sub.kind].rank
    assert verdict.level is item_level(sub)
    floor = DEFAULT_GATE[verdict.level]
    if mode is not Mode.AUTOPILOT or verdict.level in NEVER_AUTO:
        assert verdict.gate.rank >= floor.rank
    if verdict.gate is Gate.BLOCK and mode is not Mode.SHADOW:
        assert verdict.status is Status.BLOCKED
