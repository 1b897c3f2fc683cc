"""The card's Snooze menu: a static_select beside the buttons, placeholder "Snooze".

A static_select shows its placeholder as the control's label, where an overflow menu would show
only "⋯" (https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element); it
is allowed in an actions block next to buttons (https://docs.slack.dev/reference/block-kit/blocks/actions-block).
Option values carry the item id, as the buttons' values do (at most 150 characters, slack_sdk
`Option`; item ids are 30 or fewer).
"""

from __future__ import annotations

from bot.core.snooze import SNOOZE_LABELS, Snooze, parse_choice
from bot.slack.blocks_text import Block
from bot.slack.ids import Action


def snooze_menu(item_id: str) -> Block:
    """The Snooze select for one item's card."""
    options = [
        {"text": {"type": "plain_text", "text": text}, "value": f"{item_id}|{choice.value}"}
        for choice, text in SNOOZE_LABELS.items()
    ]
    return {
        "type": "static_select",
        "action_id": Action.SNOOZE.value,
        "placeholder": {"type": "plain_text", "text": "Snooze"},
        "options": options,
    }


def read_snooze(value: str) -> tuple[str, Snooze]:
    """(item id, choice) from a selected option's value."""
    item_id, _, choice = value.rpartition("|")
    return item_id, parse_choice(choice)
