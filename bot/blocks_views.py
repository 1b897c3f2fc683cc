"""Modals: Edit (typed inputs per proposed value) and Reject (reason category + text).

Builders and the readers of their submitted state live together, so a field's input type is
decided in one place.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks import Block, clip
from bot.decisions import RejectReason
from bot.slack_ids import FIELD_BLOCK_PREFIX, REJECT_BLOCK, REJECT_TEXT_BLOCK, View

PICKLISTS: dict[str, list[str]] = {
    "StageName": [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ],
    "ForecastCategoryName": ["Pipeline", "Best Case", "Commit", "Omitted", "Closed"],
}
LONG_TEXT = {"task.description", "message.body", "summary", "Description"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REASON_LABELS = {
    RejectReason.INACCURATE: "Inaccurate",
    RejectReason.WRONG_RECORD: "Wrong record",
    RejectReason.TONE: "Tone",
    RejectReason.NOT_USEFUL: "Not useful",
    RejectReason.ALREADY_DONE: "Already done",
    RejectReason.POLICY: "Policy",
    RejectReason.OTHER: "Other",
}


def input_kind(name: str, value: Any) -> str:
    """How a value is edited: select, number, date, long or text."""
    short = name.split(".")[-1]
    if short in PICKLISTS:
        return "select"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if (isinstance(value, str) and _DATE.match(value)) or short.endswith(("Date", "due_date")):
        return "date"
    return "long" if name in LONG_TEXT else "text"


def _option(text: str) -> Block:
    return {"text": {"type": "plain_text", "text": clip(text, 75)}, "value": text[:150]}


def _element(name: str, value: Any) -> Block:
    kind = input_kind(name, value)
    if kind in ("select", "bool"):
        choices = PICKLISTS.get(name.split(".")[-1], ["true", "false"])
        current = str(value).lower() if kind == "bool" else str(value)
        options = [_option(c) for c in ([*choices, current] if current not in choices else choices)]
        element: Block = {"type": "static_select", "action_id": "value", "options": options}
        if value not in (None, ""):
            element["initial_option"] = _option(current)
        return element
    if kind == "number":
        element = {
            "type": "number_input",
            "action_id": "value",
            "is_decimal_allowed": isinstance(value, float),
        }
        return element | ({"initial_value": str(value)} if value is not None else {})
    if kind == "date":
        element = {"type": "datepicker", "action_id": "value"}
        return element | ({"initial_date": value} if value and _DATE.match(str(value)) else {})
    element = {"type": "plain_text_input", "action_id": "value", "multiline": kind == "long"}
    return element | ({"initial_value": clip(str(value), 3000)} if value not in (None, "") else {})


def edit_modal(item_id: str, title: str, fields: dict[str, Any]) -> Block:
    """The Edit modal, pre-filled with the proposed values, one typed input per field."""
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip(
                    "Change what is wrong, then *Approve with edits*. "
                    f"Your edits are what gets written.\n"
                    f"_{title}_"
                ),
            },
        }
    ]
    for name, value in list(fields.items())[:40]:
        blocks.append(
            {
                "type": "input",
                "block_id": f"{FIELD_BLOCK_PREFIX}{name}",
                "label": {"type": "plain_text", "text": clip(name, 2000)},
                "optional": value in (None, ""),
                "element": _element(name, value),
            }
        )
    return _modal(View.EDIT, item_id, "Edit before approving", "Approve with edits", blocks)


def _modal(view: View, item_id: str, title: str, submit: str, blocks: list[Block]) -> Block:
    """A modal whose private_metadata is the item id (the truth stays in the database)."""
    return {
        "type": "modal",
        "callback_id": view.value,
        "private_metadata": item_id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def read_edit_values(
    state: dict[str, Any], proposed: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values from a submitted Edit modal, and errors keyed by block id."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, old in proposed.items():
        block = f"{FIELD_BLOCK_PREFIX}{name}"
        raw = _raw(state.get(block, {}).get("value", {}))
        try:
            values[name] = _typed(name, old, raw)
        except ValueError as exc:
            errors[block] = str(exc)
    return values, errors


def _raw(action: dict[str, Any]) -> str | None:
    option = action.get("selected_option")
    if option:
        return str(option["value"])
    return action.get("selected_date") or action.get("value")


def _typed(name: str, old: Any, raw: str | None) -> Any:
    kind = input_kind(name, old)
    if raw in (None, ""):
        if old not in (None, ""):
            raise ValueError("This value is required: enter one or cancel and reject instead")
        return old
    assert raw is not None
    if kind == "bool":
        return raw == "true"
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
        return int(number) if isinstance(old, int) and number.is_integer() else number
    if kind == "date":
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError("Pick a date, e.g. 2026-12-01") from None
    return raw


def reject_modal(item_id: str, title: str) -> Block:
    """The Reject modal: a reason category (feeds metrics and evals) and optional detail."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": reason.value}
        for reason, label in _REASON_LABELS.items()
    ]
    return _modal(
        View.REJECT,
        item_id,
        "Reject",
        "Reject",
        [
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(f"_{title}_")}},
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
