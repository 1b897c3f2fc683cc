"""Cards fit Slack by design: any item the intake accepts renders within Slack's limits."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.slack_blockkit import CUMULATIVE_TEXT, block_text_length, check_message
from bot.slack.blocks import Card, review_card
from tests.test_blocks import view


def rich(n_reasons: int = 20, n_sources: int = 15, n_changes: int = 30, width: int = 1) -> dict:
    """An item with everything an agent may send, each text `width` times its usual length."""
    changes = [
        {
            "field": f"Custom_Field_{n}__c" + "x" * 100,
            "value": f"proposed value {n} " * 8 * width,
            "observed": f"observed value {n} " * 8 * width,
            "observed_given": True,
        }
        for n in range(n_changes)
    ]
    sources = [
        {
            "title": f"Call recording {n} " * 15,
            "url": f"https://calls.example.com/{n}/" + "p" * 1900,
            "excerpt": "The customer said the renewal will slip. " * 90,
        }
        for n in range(n_sources)
    ]
    return view(
        title="T" * 255,
        summary="A long summary of three calls and two emails. " * 420,
        reasons=[
            f"Reason {n}: " + "the buyer confirmed budget and timeline " * 8 * width
            for n in range(n_reasons)
        ],
        sources=sources,
        changes=changes,
        task={"subject": "S" * 255, "due_date": "2026-12-01", "description": "d" * 32000},
        message={
            "to": [f"buyer{n}@example.com" for n in range(20)],
            "subject": "s" * 500,
            "body": "b" * 20000,
        },
        checks=[
            {"name": f"check{n}", "passed": False, "on_fail": "warn", "detail": "why " * 200}
            for n in range(12)
        ],
    )


def decided(v: dict[str, Any]) -> dict[str, Any]:
    edits = {c["field"]: {"from": c["value"], "to": c["observed"]} for c in v["changes"]}
    results = [
        {
            "field": c["field"],
            "state": "conflict",
            "current": c["observed"] * 3,
            "observed": c["value"] * 3,
        }
        for c in v["changes"]
    ]
    decision = {
        "by": "U0MAYA",
        "at": "2026-11-24T15:00:00+00:00",
        "edits": edits,
        "reason": "other",
        "text": "t" * 3000,
    }
    return v | {
        "status": "edited",
        "authority": "confirmed",
        "decision": decision,
        "writeback_state": "conflict",
        "writeback": {"results": results, "error": "e" * 3000, "task_id": "00T1"},
    }


def test_render_rich_card_within_slack_limits() -> None:
    for item in (rich(), rich(width=4), rich(50, 50, 100, 4), decided(rich(50, 50, 100, 4))):
        blocks, fallback = review_card(Card(item, "Opportunity hygiene" * 5, "UTC"))
        check_message("chat.postMessage", blocks)  # slack_sdk models + documented limits
        assert block_text_length(blocks) <= CUMULATIVE_TEXT - 1000
        assert len(fallback) <= 4000


def test_render_rich_card_says_what_it_left_out() -> None:
    item = rich()
    blocks, _ = review_card(Card(item, "Opportunity hygiene", "UTC"))
    text = json.dumps(blocks)
    assert "more reasons" in text and "more sources" in text and "more changes" in text
    assert "/airlock trace itm_1" in text
    assert any(b["type"] == "actions" for b in blocks)
    after, _ = review_card(Card(decided(item), "Opportunity hygiene", "UTC"))
    after_text = json.dumps(after)
    assert "more edits" in after_text and "more fields" in after_text
    assert all(b["type"] != "actions" for b in after)
