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


def bundle_messages(
    bundle_id: str, workflow_name: str, items: Sequence[Item]
) -> list[tuple[Sequence[Item], list[Block], str]]:
    """The rows, blocks and fallback text of each message of a bundle, in any state of its rows.

    Placement keeps a bundle to one message; should one ever hold more rows (say, placed
    before placement was serialised), it is split into messages of `ROWS_PER_MESSAGE` rows,
    never refused: a bundle that cannot be rendered would never reach its reviewer.
    """
    size = ROWS_PER_MESSAGE
    parts = [items[start : start + size] for start in range(0, len(items), size)] or [items]
    pending = sum(item.status == "pending" for item in items)
    return [
        (part, *_message(bundle_id, workflow_name, part, len(items), pending, (n, len(parts))))
        for n, part in enumerate(parts, start=1)
    ]


def _message(
    bundle_id: str,
    workflow_name: str,
    rows: Sequence[Item],
    total: int,
    pending: int,
    part: tuple[int, int],
) -> tuple[list[Block], str]:
    # Counts and Approve all are the whole bundle's: Approve all decides every row of it.
    title = f"{total} items to review · {workflow_name}"
    if part[1] > 1:
        title += f" ({part[0]} of {part[1]})"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_LIMIT)}},
        context(
            f"*{pending}* waiting · each row is decided on its own: its own audit entry "
            "and write-back"
        ),
    ]
    if pending:
        blocks.append(_approve_all(bundle_id, pending))
    for item in rows:
        blocks += _row(item)
    blocks.append(context(f"Bundle `{bundle_id}` · `/airlock trace <item>` shows any row in full"))
    text = f"{esc(clip(title, HEADER_LIMIT))}: {pending} waiting"
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
