"""The Reject modal (a reason category and optional text) and the reader of its submitted state."""

from __future__ import annotations

from typing import Any

from bot.core.decisions import RejectReason
from bot.slack.blocks_text import Block, clip, esc
from bot.slack.blocks_views import modal
from bot.slack.ids import REJECT_BLOCK, REJECT_TEXT_BLOCK, View

_REASON_LABELS = {
    RejectReason.INACCURATE: "Inaccurate",
    RejectReason.WRONG_RECORD: "Wrong record",
    RejectReason.TONE: "Tone",
    RejectReason.NOT_USEFUL: "Not useful",
    RejectReason.ALREADY_DONE: "Already done",
    RejectReason.POLICY: "Policy",
    RejectReason.OTHER: "Other",
}


def reject_modal(item_id: str, title: str) -> Block:
    """The Reject modal: a reason category (feeds metrics and evals) and optional detail."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": reason.value}
        for reason, label in _REASON_LABELS.items()
    ]
    return modal(
        View.REJECT,
        item_id,
        "Reject",
        "Reject",
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(f"_{esc(title)}_")}},
            {
                "type": "input",
                "block_id": REJECT_BLOCK,
                "label": {"type": "plain_text", "text": "What was wrong?"},
                "element": {"type": "static_select", "action_id": "value", "options": options},
            },
            {
                "type": "input",
                "block_id": REJECT_TEXT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Tell the agent's owner more"},
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
            },
        ],
    )


def read_reject(state: dict[str, Any]) -> tuple[str | None, str, dict[str, str]]:
    """Category, text and errors from a submitted Reject modal."""
    option = state.get(REJECT_BLOCK, {}).get("value", {}).get("selected_option") or {}
    category = option.get("value")
    text = (state.get(REJECT_TEXT_BLOCK, {}).get("value", {}).get("value") or "").strip()
    errors = {}
    if not category:
        errors[REJECT_BLOCK] = "Pick what was wrong"
    elif category == RejectReason.OTHER and not text:
        errors[REJECT_TEXT_BLOCK] = "Say what was wrong when you pick Other"
    return category, text, errors
