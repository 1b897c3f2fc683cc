"""Block Kit checks of the Slack stand-in: refuse every message and view Slack would refuse.

The structure and per-object limits are slack_sdk's own models: `Block.parse` then `to_dict()`,
which runs every `@JsonValidator` down the tree (`slack_sdk/models/blocks/blocks.py`,
`block_elements.py`, `basic_components.py`; views in `slack_sdk/models/views/__init__.py`).
On top, the documented rules those models do not check:
- 50 blocks per message, 100 per view (https://docs.slack.dev/reference/block-kit/blocks);
- about 12,000 characters of text over all blocks of a message, refused as
  `msg_blocks_too_long` (https://docs.slack.dev/reference/methods/chat.postMessage, errors);
- a section field at most 2,000 characters, text objects at least 1
  (https://docs.slack.dev/reference/block-kit/blocks/section-block,
  https://docs.slack.dev/reference/block-kit/composition-objects/text-object);
- a select's initial_option is one of its options; a datepicker's initial_date a real date; a
  number_input's initial_value a plain decimal number (an integer unless decimals are allowed);
  a plain_text_input's initial_value at most 3,000 characters
  (https://docs.slack.dev/reference/block-kit/block-elements/);
- a checkboxes element has 1 to 10 options, and its initial_options are among them
  (https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element; slack_sdk's
  CheckboxesElement does not check either).

Every refusal is also recorded in `VIOLATIONS`, so a test session can prove it sent none.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.slack_api import SlackApiFailure

MESSAGE_BLOCKS = 50
CHECKBOX_OPTIONS = 10
CUMULATIVE_TEXT = 12_000
FIELD_TEXT = 2_000
INPUT_TEXT = 3_000
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Violation:
    """A payload the stand-in refused for its Block Kit."""

    method: str
    error: str
    detail: str


VIOLATIONS: list[Violation] = []
CHECKED = [0]  # payloads validated in this process, for the test session's summary
_lock = threading.Lock()


class BlockKitRefusal(SlackApiFailure):
    """A Block Kit refusal: `error` as Slack names it, `detail` says what to fix."""


def check_message(method: str, blocks: Any) -> None:
    """Refuse blocks Slack would refuse in chat.postMessage, chat.update or chat.postEphemeral."""
    _checked(method, lambda: _message(blocks))


def check_view(method: str, view: Any) -> None:
    """Refuse a view Slack would refuse in views.open, views.push, views.update, views.publish."""
    _checked(method, lambda: _view(view))


def block_text_length(blocks: Any) -> int:
    """Characters of text in every text object of a block tree."""
    if isinstance(blocks, list):
        return sum(block_text_length(b) for b in blocks)
    if not isinstance(blocks, dict):
        return 0
    own = len(blocks["text"]) if _is_text_object(blocks) else 0
    return own + sum(block_text_length(v) for k, v in blocks.items() if isinstance(v, list | dict))


def _checked(method: str, check: Any) -> None:
    with _lock:
        CHECKED[0] += 1
    try:
        check()
    except BlockKitRefusal as refusal:
        with _lock:
            VIOLATIONS.append(Violation(method, refusal.error, refusal.detail))
        raise


def _message(blocks: Any) -> None:
    if not isinstance(blocks, list):
        raise BlockKitRefusal("invalid_blocks", "blocks must be a list")
    if len(blocks) > MESSAGE_BLOCKS:
        raise BlockKitRefusal("invalid_blocks", f"{len(blocks)} blocks, at most 50 allowed")
    _blocks(blocks, "invalid_blocks")
    total = block_text_length(blocks)
    if total > CUMULATIVE_TEXT:
        raise BlockKitRefusal("msg_blocks_too_long", f"{total} characters of block text")


def _view(view: Any) -> None:
    if not isinstance(view, dict):
        raise BlockKitRefusal("invalid_arguments", "view must be an object")
    try:
        View(**view).to_dict()
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
        raise BlockKitRefusal("invalid_arguments", f"view: {exc}") from None
    blocks = view.get("blocks") or []
    _blocks(blocks, "invalid_arguments")
    has_input = any(b.get("type") == "input" for b in blocks)
    if view.get("type") == "modal" and has_input and not view.get("submit"):
        raise BlockKitRefusal("invalid_arguments", "a modal with input blocks needs submit")


def _blocks(blocks: list[Any], error: str) -> None:
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict) or "type" not in block:
            raise BlockKitRefusal(error, f"{where}: a block is an object with a type")
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackObjectFormationError(f"unknown block type {block['type']!r}")
            parsed.to_dict()
        except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
            raise BlockKitRefusal(error, f"{where}: {exc}") from None
        problem = _documented(block)
        if problem:
            raise BlockKitRefusal(error, f"{where}: {problem}")


def _documented(node: Any) -> str | None:
    """The first documented rule `node` (or anything inside it) breaks."""
    if isinstance(node, list):
        return next((p for p in map(_documented, node) if p), None)
    if not isinstance(node, dict):
        return None
    problem = _own_problem(node)
    if problem:
        return problem
    return next(
        (p for v in node.values() if isinstance(v, list | dict) and (p := _documented(v))), None
    )


def _own_problem(node: dict[str, Any]) -> str | None:
    kind = node.get("type")
    if _is_text_object(node) and not node["text"]:
        return "text must be at least 1 character"
    if kind == "section" and any(block_text_length(f) > FIELD_TEXT for f in node.get("fields", [])):
        return "a section field is at most 2000 characters"
    if kind == "static_select" and "initial_option" in node:
        values = [o.get("value") for o in node.get("options", [])]
        if node["initial_option"].get("value") not in values:
            return "initial_option must be one of the options"
    if kind == "checkboxes":
        return _checkboxes_problem(node)
    if kind == "datepicker" and "initial_date" in node and not _is_date(node["initial_date"]):
        return f"initial_date {node['initial_date']!r} is not a date"
    if kind == "number_input" and "initial_value" in node:
        value = str(node["initial_value"])
        if not _NUMBER.match(value) or ("." in value and not node.get("is_decimal_allowed")):
            return f"initial_value {value!r} is not a number this input accepts"
    if kind == "plain_text_input" and len(str(node.get("initial_value", ""))) > INPUT_TEXT:
        return "initial_value is at most 3000 characters"
    return None


def _checkboxes_problem(node: dict[str, Any]) -> str | None:
    values = [o.get("value") for o in node.get("options", [])]
    if not 1 <= len(values) <= CHECKBOX_OPTIONS:
        return f"checkboxes have 1 to {CHECKBOX_OPTIONS} options, not {len(values)}"
    if any(o.get("value") not in values for o in node.get("initial_options", [])):
        return "initial_options must be among the options"
    return None


def _is_text_object(node: dict[str, Any]) -> bool:
    return node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str)


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True
