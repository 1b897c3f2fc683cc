"""The Edit modal's "Changes to apply" checkboxes: keep or decline each proposed change.

A checkboxes element holds at most 10 options
(https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element), and an option's
text at most 75 characters, its value 150 (slack_sdk `Option`). So the changes are offered in
groups of 10, each option's value is the change's position (field names never meet the value
limit), and past MAX_GROUPS groups the remaining changes are said to be applied as proposed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.slack.blocks_text import Block, clip, label

GROUP = 10
MAX_GROUPS = 5
APPLY_BLOCK_PREFIX = "apply:"


def _groups(changes: Sequence[str]) -> list[list[tuple[int, str]]]:
    offered = list(enumerate(changes))[: GROUP * MAX_GROUPS]
    return [offered[start : start + GROUP] for start in range(0, len(offered), GROUP)]


def apply_blocks(changes: Sequence[str], labels: Mapping[str, str]) -> list[Block]:
    """One optional checkboxes input per 10 changes, every box ticked at first."""
    groups = _groups(changes)
    blocks: list[Block] = []
    for number, group in enumerate(groups):
        options = [
            {"text": {"type": "plain_text", "text": clip(label(labels, name), 75)}, "value": str(i)}
            for i, name in group
        ]
        title = "Changes to apply"
        if len(groups) > 1:
            title += f" ({group[0][0] + 1} to {group[-1][0] + 1})"
        blocks.append(
            {
                "type": "input",
                "block_id": f"{APPLY_BLOCK_PREFIX}{number}",
                "optional": True,
                "label": {"type": "plain_text", "text": title},
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": options,
                    "initial_options": options,
                },
                "hint": {"type": "plain_text", "text": _hint(len(changes))},
            }
        )
    return blocks


def _hint(total: int) -> str:
    hint = "Untick a change to decline it: it is not written. Untick all to reject the item."
    past = total - GROUP * MAX_GROUPS
    if past > 0:
        hint += f" The last {past} changes cannot be declined here: they apply as proposed."
    return hint


def read_declined(state: dict[str, Any], changes: Sequence[str]) -> list[str]:
    """The changes whose box was unticked on submit.

    A group missing from the state (a client that sent none) declines nothing: an unreadable
    answer never drops a change the reviewer did not see dropped.
    """
    declined = []
    for number, group in enumerate(_groups(changes)):
        block = state.get(f"{APPLY_BLOCK_PREFIX}{number}")
        if block is None:
            continue
        picked = block.get("value", {}).get("selected_options") or []
        kept = {str(option["value"]) for option in picked}
        declined += [name for i, name in group if str(i) not in kept]
    return declined
