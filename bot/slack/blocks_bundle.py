"""The bundle message: one row per item (title, current -> proposed, confidence) with its own
Approve / Edit / Reject, and Approve all behind a confirmation dialog.

Rendered from the items' stored state, like the single card, so a decided row shows its outcome
in place. Limits kept (https://docs.slack.dev/reference/block-kit/blocks): at most 50 blocks and
about 12,000 characters of text a message; `bot.core.bundles.ROWS_PER_MESSAGE` rows of at most
ROW_TEXT characters fit both. An action_id must be unique within its block only
(https://docs.slack.dev/reference/block-kit/block-elements/button-element), so every row reuses
the same three action ids in its own actions block and the item id rides in each value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.bundles import ROWS_PER_MESSAGE
from bot.slack.blocks_outcome import STATUS
from bot.slack.blocks_text import HEADER_LIMIT, Block, clip, context, esc, section, value_text
from bot.slack.ids import Action
from models import Item

ROW_TEXT = 480
ROW_CHANGES = 3
# Confirmation dialog limits: title 100, text 300, confirm and deny 30 characters
# (https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object).
CONFIRM_TEXT = 300
_ROW_BUTTONS = (
    (Action.BUNDLE_APPROVE, "Approve", "primary"),
    (Action.EDIT, "Edit", None),
    (Action.REJECT, "Reject", "danger"),
)


def bundle_message(
    bundle_id: str, workflow_name: str, items: Sequence[Item]
) -> tuple[list[Block], str]:
    """Blocks and fallback text of a bundle message, in any state of its rows."""
    assert len(items) <= ROWS_PER_MESSAGE, "a bundle holds at most ROWS_PER_MESSAGE rows"
    pending = [i for i in items if i.status == "pending"]
    title = f"{len(items)} items to review · {workflow_name}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_LIMIT)}},
        context(
            f"*{len(pending)}* waiting · each row is decided on its own: its own audit entry "
            "and write-back"
        ),
    ]
    if pending:
        blocks.append(_approve_all(bundle_id, len(pending)))
    for item in items:
        blocks += _row(item)
    blocks.append(context(f"Bundle `{bundle_id}` · `/airlock trace <item>` shows any row in full"))
    text = f"{esc(clip(title, HEADER_LIMIT))}: {len(pending)} waiting"
    return blocks, text


def _approve_all(bundle_id: str, pending: int) -> Block:
    confirm = {
        "title": {"type": "plain_text", "text": "Approve all?"},
        "text": {
            "type": "mrkdwn",
            "text": clip(
                f"Approve the {pending} waiting item(s) in this bundle as proposed? Each is "
                "approved and written to Salesforce on its own; rows someone already decided "
                "stay as they are.",
                CONFIRM_TEXT,
            ),
        },
        "confirm": {"type": "plain_text", "text": "Approve all"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    button = {
        "type": "button",
        "action_id": Action.APPROVE_ALL.value,
        "value": bundle_id,
        "style": "primary",
        "text": {"type": "plain_text", "text": f"Approve all {pending}"},
        "confirm": confirm,
    }
    return {"type": "actions", "block_id": f"bundle:{bundle_id}", "elements": [button]}


def _row(item: Item) -> list[Block]:
    shown = f"{item.confidence:.0%}" if item.confidence is not None else "not given"
    lines = [f"*{esc(clip(item.title, 150))}* · confidence {shown}"]
    lines += _proposal(item)
    text = clip("\n".join(lines), ROW_TEXT)
    row: Block = section(text, f"row:{item.id}")
    if item.status == "pending":
        return [row, _buttons(item.id)]
    return [row, context(f"{_outcome(item)} · item `{item.id}`")]


def _proposal(item: Item) -> list[str]:
    lines = []
    for change in item.changes[:ROW_CHANGES]:
        saw = value_text(change.get("observed")) if change.get("observed_given") else "?"
        name = esc(clip(change["field"], 80))
        lines.append(f"• {name}: {saw} → *{value_text(change['value'])}*")
    if len(item.changes) > ROW_CHANGES:
        lines.append(
            f"… and {len(item.changes) - ROW_CHANGES} more changes: `/airlock trace {item.id}`"
        )
    if item.task:
        lines.append(f"• Task: {esc(clip(str(item.task.get('subject', '')), 150))}")
    if item.message:
        lines.append(
            f"• Draft: {esc(clip(str(item.message.get('subject') or '(no subject)'), 150))}"
        )
    if not lines and item.summary:
        lines.append(esc(clip(item.summary, 200)))
    return lines


def _outcome(item: Item) -> str:
    said = STATUS.get(item.status, item.status)
    who = f" by <@{item.decided_by}>" if item.decided_by else ""
    return f"*{said}*{who}"


def _buttons(item_id: str) -> Block:
    elements: list[dict[str, Any]] = []
    for action, label, style in _ROW_BUTTONS:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action.value,
            "value": item_id,
            "text": {"type": "plain_text", "text": label},
        }
        elements.append(button | ({"style": style} if style else {}))
    return {"type": "actions", "block_id": f"bundle_row:{item_id}", "elements": elements}
