"""Block Kit builders, tested directly: cards in every state, limits, escaping, modals, Home."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.slack_payloads import date_state, select_state, text_state
from bot.slack.blocks import (
    MAX_BLOCKS,
    SECTION_LIMIT,
    Card,
    clip,
    context,
    fit,
    review_card,
    section,
    writeback_lines,
)
from bot.slack.blocks_reject import read_reject, reject_modal
from bot.slack.blocks_views import edit_modal, input_kind, read_edit_values
from bot.slack.ids import REJECT_BLOCK, REJECT_TEXT_BLOCK


def view(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "itm_1",
        "title": "Move Acme to Negotiation",
        "summary": "Pricing call held.",
        "reasons": ["Redlines discussed"],
        "agent": "gong-bot",
        "level": "crm_write",
        "gate": "rep",
        "status": "pending",
        "authority": "advisory",
        "confidence": 0.82,
        "sources": [{"title": "Gong call", "url": "https://gong.example/1", "excerpt": "legal"}],
        "record": {"sobject": "Opportunity", "id": "006Ai0000000001IAA"},
        "changes": [
            {
                "field": "StageName",
                "value": "Negotiation/Review",
                "observed": "Proposal/Price Quote",
                "observed_given": True,
            }
        ],
        "checks": [{"name": "observed", "passed": False, "on_fail": "warn", "detail": "x"}],
        "task": None,
        "message": None,
        "decision": None,
        "writeback_state": "none",
        "writeback": None,
        "escalated": False,
        "assignee": "U0MAYA",
        "manager": "U0SAM",
    }
    return base | over


def text_of(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def test_render_pending_card() -> None:
    deadline = datetime(2026, 11, 25, 19, 0, tzinfo=UTC)
    blocks, fallback = review_card(
        Card(view(), "Opportunity hygiene", "America/New_York", deadline)
    )
    text = text_of(blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Move Acme to Negotiation"},
    }
    for words in (
        "*Why*",
        "*Sources*",
        "82%",
        "Proposal/Price Quote",
        "*Negotiation/Review*",
        "gate *rep*",
        "Opportunity hygiene",
        "`gong-bot`",
        "advisory",
        ":warning:",
        "Wed 25 Nov 14:00 EST",
    ):
        assert words in text, words
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    *buttons, snooze = actions
    assert [(a["text"]["text"], a["value"]) for a in buttons] == [
        ("Approve", "itm_1"),
        ("Edit", "itm_1"),
        ("Reject", "itm_1"),
    ]
    assert snooze["placeholder"]["text"] == "Snooze"
    assert [o["value"] for o in snooze["options"]] == [
        "itm_1|1h",
        "itm_1|tomorrow",
        "itm_1|next_week",
    ]
    assert fallback == "Move Acme to Negotiation (Waiting for your decision)"


def test_render_decided_card_shows_outcome() -> None:
    decided = view(
        status="edited",
        authority="confirmed",
        writeback_state="conflict",
        decision={
            "by": "U0MAYA",
            "at": "2026-11-24T15:00:00+00:00",
            "edits": {"StageName": {"from": "Negotiation/Review", "to": "Value Proposition"}},
        },
        writeback={
            "results": [
                {
                    "field": "StageName",
                    "state": "conflict",
                    "current": "Closed Lost",
                    "observed": "Proposal/Price Quote",
                }
            ]
        },
    )
    blocks, _ = review_card(Card(decided, "Opportunity hygiene", "America/New_York"))
    text = text_of(blocks)
    assert "*Approved with edits* by <@U0MAYA> at Tue 24 Nov 10:00 EST" in text
    assert "*confirmed* by <@U0MAYA>" in text and "advisory" not in text
    assert "*Value Proposition*" in text
    assert "Salesforce now has Closed Lost but the agent saw Proposal/Price Quote" in text
    assert all(b["type"] != "actions" for b in blocks)


def test_writeback_lines_per_state() -> None:
    assert writeback_lines(view()) == []
    assert "queued" in writeback_lines(view(writeback_state="queued"))[0]
    failed = writeback_lines(
        view(writeback_state="failed", writeback={"results": [], "error": "FIELD_INTEGRITY"})
    )
    assert failed == ["Salesforce: *failed*", "• FIELD_INTEGRITY"]


def test_escape_agent_text() -> None:
    blocks, _ = review_card(
        Card(
            view(summary="<!channel> <https://evil|click> & co", reasons=["<@U0BOSS> said so"]), "W"
        )
    )
    text = text_of(blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "&lt;@U0BOSS&gt;" in text
    assert "&amp; co" in text


def test_clip_and_fit_limits() -> None:
    long = view(
        summary="x" * 5000,
        sources=[{"title": f"s{n}", "url": None, "excerpt": None} for n in range(10)],
        reasons=[f"reason {n}" for n in range(80)],
    )
    blocks, _ = review_card(Card(long, "W"))
    assert len(blocks) <= MAX_BLOCKS
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(t) <= SECTION_LIMIT for t in sections)
    assert any(t.endswith("… (truncated)") for t in sections)
    assert clip("abc", 10) == "abc"


def test_fit_keeps_buttons_when_too_many_blocks() -> None:
    blocks = [section(f"part {n}") for n in range(60)] + [
        {"type": "actions", "elements": []},
        context("footer"),
    ]
    kept = fit(blocks)
    assert len(kept) == MAX_BLOCKS
    assert kept[-2]["type"] == "actions"
    assert kept[-1] == context("footer")
    assert "13 more blocks not shown" in json.dumps(kept[-3])
    assert fit(blocks[:10]) == blocks[:10]


def test_edit_modal_types_inputs() -> None:
    fields = {
        "StageName": "Negotiation/Review",
        "Amount": 84000,
        "CloseDate": "2026-12-31",
        "task.description": "Send MSA",
        "NextStep": "",
    }
    stages = {"StageName": ["Proposal/Price Quote", "Negotiation/Review"]}
    modal = edit_modal("itm_1", "Title", fields, picklists=stages)
    elements = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
    assert elements["edit:StageName"]["type"] == "static_select"
    assert elements["edit:StageName"]["initial_option"]["value"] == "Negotiation/Review"
    assert elements["edit:Amount"] == {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "initial_value": "84000",
    }
    assert elements["edit:CloseDate"] == {
        "type": "datepicker",
        "action_id": "value",
        "initial_date": "2026-12-31",
    }
    assert elements["edit:task.description"]["multiline"] is True
    assert modal["private_metadata"] == "itm_1"
    assert input_kind("IsClosed", True) == "bool"


def test_read_edit_values_types_and_errors() -> None:
    proposed = {"Amount": 84000, "CloseDate": "2026-12-31", "StageName": "Negotiation/Review"}
    values, errors = read_edit_values(
        {
            "edit:Amount": text_state("90000"),
            "edit:CloseDate": date_state("2027-01-15"),
            "edit:StageName": select_state("Closed Won"),
        },
        proposed,
    )
    assert values == {"Amount": 90000, "CloseDate": "2027-01-15", "StageName": "Closed Won"}
    assert errors == {}
    _, errors = read_edit_values(
        {
            "edit:Amount": text_state("lots"),
            "edit:CloseDate": date_state(""),
            "edit:StageName": select_state("Closed Won"),
        },
        proposed,
    )
    assert errors == {
        "edit:Amount": "'lots' is not a number",
        "edit:CloseDate": "This value is required: enter one or cancel and reject instead",
    }


def test_reject_modal_and_reader() -> None:
    modal = reject_modal("itm_1", "Title")
    options = modal["blocks"][1]["element"]["options"]
    assert [o["value"] for o in options] == [
        "inaccurate",
        "wrong_record",
        "tone",
        "not_useful",
        "already_done",
        "policy",
        "other",
    ]
    assert read_reject({}) == (None, "", {REJECT_BLOCK: "Pick what was wrong"})
    assert read_reject(
        {REJECT_BLOCK: select_state("tone"), REJECT_TEXT_BLOCK: text_state(" too pushy ")}
    ) == ("tone", "too pushy", {})


def test_writeback_lines_say_since_when_salesforce_is_awaited() -> None:
    waiting = {"retry": "Salesforce retryable: 503", "waiting_since": "2026-11-24T15:00:00+00:00"}
    lines = writeback_lines(view(writeback_state="queued", writeback=waiting), "America/New_York")
    assert lines == [
        ":hourglass_flowing_sand: Salesforce: waiting for Salesforce since Tue 24 Nov 10:00 EST "
        "(Salesforce retryable: 503); it keeps retrying, nothing is lost"
    ]
