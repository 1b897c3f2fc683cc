"""Quality checks: grounded, banned terms, confidence, required content, observed values."""

from __future__ import annotations

from typing import Any

import pytest

from bot.base.spec_model import Checks
from bot.base.submission import Submission
from bot.core.checks import CheckResult, run_checks

RECORD = {"sobject": "Opportunity", "id": "006000000000001AAA"}
URL = {"title": "Gong call", "url": "https://gong.example/1"}
EXCERPT = {"title": "Call notes", "excerpt": "They asked for redlines."}
TITLE_ONLY = {"title": "Somewhere"}


def make_sub(**overrides: Any) -> Submission:
    body: dict[str, Any] = {
        "workflow": "probe",
        "kind": "recommendation",
        "title": "Next play for Acme",
        "summary": "Acme held a budget call.",
        "reasons": ["Call on 2026-11-20"],
        "sources": [URL],
        "confidence": 0.9,
    }
    body.update(overrides)
    if body.get("changes"):
        body.setdefault("record", RECORD)
    return Submission.model_validate(body)


def check(sub: Submission, checks: dict[str, Any], name: str) -> CheckResult:
    results = [r for r in run_checks(sub, Checks.model_validate(checks)) if r.name == name]
    assert len(results) == 1, f"expected one {name} result"
    return results[0]


@pytest.mark.parametrize(
    ("sources", "passed", "detail"),
    [
        ([URL, URL], True, "2 of 2 sources with a URL or excerpt"),
        ([URL, EXCERPT], True, "2 of 2 sources with a URL or excerpt"),
        ([URL], False, "1 of 2 sources with a URL or excerpt"),
        ([URL, TITLE_ONLY], False, "1 of 2 sources with a URL or excerpt"),
        ([], False, "0 of 2 sources with a URL or excerpt"),
    ],
)
def test_check_grounded_min_sources(
    sources: list[dict[str, str]], passed: bool, detail: str
) -> None:
    result = check(make_sub(sources=sources), {"grounded": {"min_sources": 2}}, "grounded")
    assert (result.passed, result.detail) == (passed, detail)


@pytest.mark.parametrize(
    ("sources", "passed"),
    [([URL], True), ([EXCERPT], False), ([EXCERPT, URL], True), ([TITLE_ONLY], False)],
)
def test_check_grounded_require_url(sources: list[dict[str, str]], passed: bool) -> None:
    checks = {"grounded": {"min_sources": 1, "require_url": True, "on_fail": "escalate"}}
    result = check(make_sub(sources=sources), checks, "grounded")
    assert result.passed is passed
    assert result.on_fail == "escalate"
    assert "sources with a URL" in result.detail and "excerpt" not in result.detail


def test_check_grounded_zero_sources_allowed() -> None:
    assert check(make_sub(sources=[]), {"grounded": {"min_sources": 0}}, "grounded").passed


BANNED = {"banned_terms": {"terms": ["guarantee", "free of charge"], "on_fail": "block"}}
TASK = {"subject": "Call back", "description": "Tell them it is free of charge"}
MESSAGE = {"to": ["a@acme.example"], "subject": "Hi", "body": "We GUARANTEE uptime."}


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"title": "We Guarantee results"}, "'guarantee'"),
        ({"summary": "Setup is FREE OF CHARGE."}, "'free of charge'"),
        ({"reasons": ["guarantee: none"]}, "'guarantee'"),
        ({"task": TASK}, "'free of charge'"),
        ({"message": MESSAGE}, "'guarantee'"),
        ({"message": {**MESSAGE, "body": "Hi", "subject": "A guarantee"}}, "'guarantee'"),
        ({"changes": [{"field": "NextStep", "value": "(guarantee) renewal"}]}, "'guarantee'"),
    ],
)
def test_check_banned_terms_found(body: dict[str, Any], found: str) -> None:
    result = check(make_sub(**body), BANNED, "banned_terms")
    assert not result.passed
    assert result.on_fail == "block"
    assert result.detail == f"contains {found}"


@pytest.mark.parametrize(
    "summary",
    [
        "Uptime is guaranteed by the SLA.",
        "No guarantees were made.",
        "Setup is free, of charge we spoke.",
        "Shipping is free of charges.",
        "",
    ],
)
def test_check_banned_terms_whole_words_only(summary: str) -> None:
    result = check(make_sub(summary=summary), BANNED, "banned_terms")
    assert result.passed, result.detail
    assert result.detail == "no banned terms"


def test_check_banned_terms_lists_every_term() -> None:
    sub = make_sub(summary="A guarantee, free of charge.")
    result = check(sub, BANNED, "banned_terms")
    assert result.detail == "contains 'guarantee', 'free of charge'"


def test_check_banned_terms_ignores_recipients() -> None:
    message = {"to": ["guarantee@acme.example"], "subject": "Hi", "body": "Hello"}
    assert check(make_sub(message=message), BANNED, "banned_terms").passed


@pytest.mark.parametrize(
    ("confidence", "passed", "detail"),
    [
        (None, False, "no confidence given (min 0.6)"),
        (0.59, False, "0.59 < 0.60"),
        (0.6, True, "0.60 >= 0.60"),
        (1.0, True, "1.00 >= 0.60"),
    ],
)
def test_check_confidence(confidence: float | None, passed: bool, detail: str) -> None:
    checks = {"confidence": {"min": 0.6}}
    result = check(make_sub(confidence=confidence), checks, "confidence")
    assert (result.passed, result.detail, result.on_fail) == (passed, detail, "escalate")


@pytest.mark.parametrize(
    ("body", "passed", "detail"),
    [
        ({"kind": "recommendation"}, True, "has reasons"),
        ({"kind": "recommendation", "reasons": []}, False, "missing reasons"),
        ({"kind": "brief", "summary": ""}, False, "missing summary"),
        ({"kind": "brief", "reasons": []}, True, "has summary"),
        ({"kind": "summary", "summary": "  "}, False, "missing summary"),
        ({"kind": "decision"}, True, "has reasons, sources"),
        ({"kind": "decision", "sources": [], "reasons": []}, False, "missing reasons, sources"),
    ],
)
def test_check_required_defaults(body: dict[str, Any], passed: bool, detail: str) -> None:
    result = check(make_sub(**body), {}, "required")
    assert (result.passed, result.detail, result.on_fail) == (passed, detail, "block")


def test_check_required_spec_override() -> None:
    checks = {
        "required": {"fields": {"decision": ["reasons", "sources", "summary"]}, "on_fail": "warn"}
    }
    decision = check(make_sub(kind="decision", summary=""), checks, "required")
    assert (decision.passed, decision.detail, decision.on_fail) == (
        False,
        "missing summary",
        "warn",
    )
    other = check(make_sub(kind="recommendation", reasons=[]), checks, "required")
    assert (other.passed, other.detail) == (False, "missing reasons")


def test_check_required_override_can_relax() -> None:
    checks: dict[str, Any] = {"required": {"fields": {"recommendation": []}}}
    assert check(make_sub(reasons=[], sources=[]), checks, "required").passed


def test_check_observed_missing_warns() -> None:
    changes = [
        {"field": "StageName", "value": "Negotiation", "observed": "Proposal"},
        {"field": "NextStep", "value": "Send redlines"},
    ]
    result = check(make_sub(kind="field_update", changes=changes), {}, "observed")
    assert (result.passed, result.on_fail) == (False, "warn")
    assert result.detail == "no observed value for NextStep: conflicts cannot be detected"


def test_check_observed_null_counts_as_given() -> None:
    changes = [{"field": "NextStep", "value": "Send redlines", "observed": None}]
    result = check(make_sub(kind="field_update", changes=changes), {}, "observed")
    assert result.passed


def test_run_checks_order_and_presence() -> None:
    all_checks = Checks.model_validate(
        {"grounded": {}, "banned_terms": {"terms": ["x"]}, "confidence": {}}
    )
    changes = [{"field": "NextStep", "value": "call", "observed": "none"}]
    with_changes = make_sub(kind="field_update", changes=changes)
    names = [r.name for r in run_checks(with_changes, all_checks)]
    assert names == ["required", "grounded", "banned_terms", "confidence", "observed"]
    assert [r.name for r in run_checks(make_sub(), Checks())] == ["required"]


def test_check_result_as_dict() -> None:
    result = check(make_sub(confidence=None), {"confidence": {"min": 0.5}}, "confidence")
    assert result.as_dict() == {
        "name": "confidence",
        "passed": False,
        "on_fail": "escalate",
        "detail": "no confidence given (min 0.5)",
    }
