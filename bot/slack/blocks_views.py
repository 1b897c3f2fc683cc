"""Modals: Edit (typed inputs per proposed value), the notice, and the frame every modal shares.

Builders and the readers of their submitted state live together, so a field's input type is
decided in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from bot.slack.blocks_apply import apply_blocks
from bot.slack.blocks_text import Block, clip, esc, label
from bot.slack.ids import FIELD_BLOCK_PREFIX, View

# A modal holds 100 blocks; 40 inputs leave room for the read-only rest and the explanation.
MAX_INPUTS = 40
# plain_text_input takes at most 3,000 characters (initial_value and max_length,
# https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element): a longer
# value cannot be pre-filled whole, so it is shown read-only and never written back clipped.
INPUT_TEXT_LIMIT = 3000
# static_select: at most 100 options, a value at most 150 characters (slack_sdk Option).
MAX_OPTIONS, OPTION_VALUE = 100, 150
LONG_TEXT = {"task.description", "message.body", "summary", "Description"}
# The most characters a reviewer may type per field: the intake limits where Airlock sets them,
# else 255, the usual length of a Salesforce text field (field metadata, when known, is exact).
TEXT_LIMITS = {
    "task.description": 32000,
    "Description": 32000,
    "message.body": 20000,
    "summary": 20000,
    "message.subject": 500,
}
STRING_LIMIT = 255
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
Picklists = Mapping[str, Sequence[str]]


def input_kind(name: str, value: Any) -> str:
    """What a value is, for reading it back: bool, number, date, long or text."""
    short = name.split(".")[-1]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if (isinstance(value, str) and _DATE.match(value)) or short.endswith(("Date", "due_date")):
        return "date"
    return "long" if name in LONG_TEXT else "text"


def split_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(editable, read-only): text too long to pre-fill, and fields past MAX_INPUTS, are read-only.

    The builder and the reader both call this, so a submission is read for exactly the inputs the
    modal showed; the read-only fields keep the agent's value.
    """
    editable: dict[str, Any] = {}
    read_only: dict[str, Any] = {}
    for name, value in fields.items():
        too_long = isinstance(value, str) and len(value) > INPUT_TEXT_LIMIT
        target = read_only if too_long or len(editable) >= MAX_INPUTS else editable
        target[name] = value
    return editable, read_only


def _option(text: str) -> Block:
    return {"text": {"type": "plain_text", "text": clip(text, 75)}, "value": text}


def _element(name: str, value: Any, choices: Sequence[str] | None) -> Block:
    kind = input_kind(name, value)
    if kind == "bool":
        options = [_option("true"), _option("false")]
        element: Block = {"type": "static_select", "action_id": "value", "options": options}
        return element | {"initial_option": _option(str(value).lower())}
    if kind in ("text", "long") and _usable(choices):
        assert choices is not None
        options = [_option(c) for c in choices]
        element = {"type": "static_select", "action_id": "value", "options": options}
        return element | ({"initial_option": _option(value)} if value in choices else {})
    if kind == "number" and _DECIMAL.match(str(value)):
        element = {
            "type": "number_input",
            "action_id": "value",
            "is_decimal_allowed": isinstance(value, float),
        }
        return element | {"initial_value": str(value)}
    if kind == "date" and (value in (None, "") or _is_date(value)):
        element = {"type": "datepicker", "action_id": "value"}
        return element | ({"initial_date": value} if value else {})
    if kind in ("number", "date"):
        # 1e+21, NaN or 2026-02-30 cannot pre-fill Slack's number or date input: edit as text.
        return {"type": "plain_text_input", "action_id": "value", "initial_value": str(value)}
    element = {"type": "plain_text_input", "action_id": "value", "multiline": kind == "long"}
    return element | ({"initial_value": str(value)} if value not in (None, "") else {})


def _usable(choices: Sequence[str] | None) -> bool:
    """A picklist a static_select can offer whole (else the value is typed)."""
    return (
        bool(choices)
        and len(choices or ()) <= MAX_OPTIONS
        and all(0 < len(c) <= OPTION_VALUE for c in choices or ())
    )


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _input(name: str, value: Any, choices: Sequence[str] | None, title: str) -> Block:
    block: Block = {
        "type": "input",
        "block_id": f"{FIELD_BLOCK_PREFIX}{name}",
        "label": {"type": "plain_text", "text": clip(title, 2000)},
        "optional": value in (None, ""),
        "element": _element(name, value, choices),
    }
    if choices and value not in (None, "") and value not in choices:
        hint = f"The agent proposed {value!r}, which is not a value of this picklist."
        block["hint"] = {"type": "plain_text", "text": clip(hint, 2000)}
    return block


def _read_only(item_id: str, fields: dict[str, Any]) -> list[Block]:
    if not fields:
        return []
    head = (
        "*Shown, not editable here* (too long for Slack, or past the first "
        f"{MAX_INPUTS} fields): approving keeps them as proposed; reject if one is wrong. "
        f"Full values: `/airlock trace {item_id}`"
    )
    lines = [f"• *{esc(clip(n, 120))}*: {esc(clip(str(v), 200))}" for n, v in fields.items()]
    chunks = [head]
    for line in lines:
        if len(chunks[-1]) + len(line) + 1 > 2900:
            chunks.append(line)
        else:
            chunks[-1] += "\n" + line
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def edit_modal(
    item_id: str,
    title: str,
    fields: dict[str, Any],
    picklists: Picklists | None = None,
    labels: Mapping[str, str] | None = None,
    changes: Sequence[str] = (),
) -> Block:
    """The Edit modal, pre-filled with the proposed values, one typed input per field.

    `picklists` holds the org's values per field name and `labels` what people call each field
    (both from Salesforce describe); a field without values is typed as text. `changes` (the
    proposed record changes) get "Changes to apply" checkboxes to decline them one by one.
    """
    editable, read_only = split_fields(fields)
    intro = (
        "Change what is wrong, then *Approve with edits*. Your edits are what gets written.\n"
        f"_{esc(title)}_"
    )
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(intro)}}]
    choices = picklists or {}
    names = labels or {}
    blocks += apply_blocks(changes, names)
    blocks += [_input(n, v, choices.get(n), label(names, n)) for n, v in editable.items()]
    blocks += _read_only(item_id, read_only)
    return modal(View.EDIT, item_id, "Edit before approving", "Approve with edits", blocks)


def modal(view: View, item_id: str, title: str, submit: str, blocks: list[Block]) -> Block:
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


def notice_modal(title: str, text: str) -> Block:
    """A modal that only tells: what replaces a submitted modal that has no input to show it."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": clip(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}],
    }


def read_edit_values(
    state: dict[str, Any], proposed: dict[str, Any], limits: dict[str, int] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values from a submitted Edit modal, and errors keyed by block id.

    `limits` are text lengths known from the org's field metadata; other text fields get
    TEXT_LIMITS or STRING_LIMIT.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    editable, _read_only = split_fields(proposed)
    for name, old in editable.items():
        block = f"{FIELD_BLOCK_PREFIX}{name}"
        raw = _raw(state.get(block, {}).get("value", {}))
        try:
            values[name] = _typed(name, old, raw, (limits or {}).get(name))
        except ValueError as exc:
            errors[block] = str(exc)
    return values, errors


def _raw(action: dict[str, Any]) -> str | None:
    option = action.get("selected_option")
    if option:
        return str(option["value"])
    return action.get("selected_date") or action.get("value")


def _typed(name: str, old: Any, raw: str | None, limit: int | None = None) -> Any:
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
    return _checked_text(raw, limit or TEXT_LIMITS.get(name, STRING_LIMIT))


def _checked_text(raw: str, limit: int) -> str:
    if len(raw) > limit:
        raise ValueError(f"This field holds at most {limit} characters; this has {len(raw)}")
    if "\x00" in raw:
        raise ValueError("Remove the NUL character (\\u0000) from this value")
    return raw
