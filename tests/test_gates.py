"""Gates that cannot be dodged: amounts sent as text, look-alike Unicode, and where tasks go."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.base.levels import Gate
from bot.base.spec_model import Checks
from bot.base.textnorm import skeleton
from bot.core.checks import run_checks
from bot.core.policy import OutputNotAllowed, decide
from tests.test_policy import MESSAGE, TASK, make_spec, make_sub

SOFT_HYPHEN, ZWSP, ZWJ = "\u00ad", "\u200b", "\u200d"
# Each reads as "guarantee" to a person; each passed the banned-terms check before.
DISGUISED = [
    f"guar{SOFT_HYPHEN}antee",
    f"gua{ZWSP}rantee",
    f"g{ZWJ}uarantee",
    "ｇｕａｒａｎｔｅｅ",  # fullwidth
    "guаrantее",  # Cyrillic а and е
    "GUΑRΑNTEE",  # Greek capital alpha
    "guarantee",
]


@pytest.mark.parametrize("value", ["150000", " 150000.50 ", "150,000", "1.5e5"])
def test_decide_amount_over_reads_numeric_strings(value: str) -> None:
    spec = make_spec(gate=[{"when": {"amount_over": 100000}, "gate": "manager"}])
    change = {"field": "Amount", "value": value, "observed": 90000}
    assert decide(make_sub(changes=[change]), spec, paused=False).gate is Gate.MANAGER


@pytest.mark.parametrize("value", ["90000", "n/a", "", "nan", "inf"])
def test_decide_amount_over_ignores_small_or_non_numbers(value: str) -> None:
    spec = make_spec(gate=[{"when": {"amount_over": 100000}, "gate": "manager"}])
    change = {"field": "Amount", "value": value, "observed": 90000}
    assert decide(make_sub(changes=[change]), spec, paused=False).gate is Gate.REP


@pytest.mark.parametrize("word", DISGUISED)
def test_check_banned_terms_sees_through_unicode(word: str) -> None:
    sub = make_sub(summary=f"We {word} delivery by Friday.")
    checks = Checks.model_validate({"banned_terms": {"terms": ["guarantee"], "on_fail": "block"}})
    banned = next(r for r in run_checks(sub, checks) if r.name == "banned_terms")
    assert not banned.passed
    assert "guarantee" in banned.detail


def test_check_banned_phrase_with_odd_spaces() -> None:
    sub = make_sub(summary="Setup is free\u00a0of\u2003 charge.")
    checks = Checks.model_validate({"banned_terms": {"terms": ["free of charge"]}})
    assert not next(r for r in run_checks(sub, checks) if r.name == "banned_terms").passed


@pytest.mark.parametrize(
    "text", ["a 10% dis\u00adcount", "ｄｉｓｃｏｕｎｔ today", "a disсount (Cyrillic c)"]
)
def test_decide_text_matches_sees_through_unicode(text: str) -> None:
    spec = make_spec(gate=[{"when": {"text_matches": [r"(?i)\bdiscount\b"]}, "gate": "manager"}])
    assert decide(make_sub(summary=text), spec, paused=False).gate is Gate.MANAGER


@pytest.mark.parametrize("pattern", [r"(?i)\bcfo\b", r"\bCFO\b"])
@pytest.mark.parametrize("to", ["Dana ＣＦＯ <d@acme.example>", "Dana C\u200bFO <d@acme.example>"])
def test_decide_recipients_match_sees_through_unicode(pattern: str, to: str) -> None:
    spec = make_spec(gate=[{"when": {"recipients_match": [pattern]}, "gate": "manager"}])
    sub = make_sub(kind="message_draft", message={**MESSAGE, "to": [to]})
    assert decide(sub, spec, paused=False).gate is Gate.MANAGER


_HIDDEN = st.sampled_from([SOFT_HYPHEN, ZWSP, ZWJ, "\u2060", "\ufeff"])


@given(
    cuts=st.lists(st.tuples(st.integers(0, 9), _HIDDEN), max_size=6),
    upper=st.lists(st.booleans(), min_size=9, max_size=9),
)
def test_skeleton_undoes_hidden_characters_and_case(
    cuts: list[tuple[int, str]], upper: list[bool]
) -> None:
    letters = [c.upper() if up else c for c, up in zip("guarantee", upper, strict=True)]
    for at, hidden in sorted(cuts, reverse=True):
        letters.insert(at, hidden)
    assert skeleton("".join(letters)) == "guarantee"


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"])))
def test_skeleton_keeps_plain_ascii_words(text: str) -> None:
    # Folding must not change what an ordinary English sentence says.
    assert skeleton(text) == re.sub(r"\s+", " ", text.casefold())
    assert skeleton(text, casefold=False).casefold() == skeleton(text)


TASK_SPEC: dict[str, Any] = {"allowed_outputs": {"kinds": ["task"], "task_on": ["Opportunity"]}}


def test_enforce_task_on_refuses_other_sobjects() -> None:
    sub = make_sub(
        kind="task", task=TASK, record={"sobject": "Account", "id": "001Ai0000000001AAA"}
    )
    with pytest.raises(OutputNotAllowed, match="tasks on Account are not allowed"):
        decide(sub, make_spec(level="task", **TASK_SPEC), paused=False)


def test_enforce_task_on_accepts_listed_sobject() -> None:
    record = {"sobject": "Opportunity", "id": "006Ai0000000001IAA"}
    sub = make_sub(kind="task", task=TASK, record=record)
    assert decide(sub, make_spec(level="task", **TASK_SPEC), paused=False).gate is Gate.REP


@pytest.mark.parametrize(
    ("sobject", "record_id", "words"),
    [
        ("Opportunity", "001Ai0000000001IAA", "001 is an Account id, not an Opportunity id"),
        ("Account", "006Ai0000000001", "006 is an Opportunity id, not an Account id"),
        ("Lead", "00qAi0000000001IAA", "a Lead id starts with 00Q"),
        ("Contact", "005Ai0000000001IAA", "005 is a User id"),
        ("Case", "00TAi0000000001IAA", "00T is a Task id"),
        ("Custom__c", "006Ai0000000001IAA", "006 is an Opportunity id"),
    ],
)
def test_enforce_record_id_prefix_matches_sobject(sobject: str, record_id: str, words: str) -> None:
    sub = make_sub(kind="task", task=TASK, record={"sobject": sobject, "id": record_id})
    with pytest.raises(OutputNotAllowed) as refused:
        decide(sub, make_spec(), paused=False)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("sobject", "record_id"),
    [
        ("Opportunity", "006Ai0000000001IAA"),
        ("Account", "001Ai0000000001"),
        ("Lead", "00QAi0000000001IAA"),
        ("Case", "500Ai0000000001IAA"),
        ("Custom__c", "a01Ai0000000001IAA"),
    ],
)
def test_enforce_record_id_prefix_accepts_matching(sobject: str, record_id: str) -> None:
    sub = make_sub(kind="task", task=TASK, record={"sobject": sobject, "id": record_id})
    assert decide(sub, make_spec(), paused=False).gate is Gate.REP
