"""Block Kit text helpers shared by every builder: clipping, limits, small blocks (escaping is
bot.base.mrkdwn, re-exported here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.base.mrkdwn import esc
from bot.base.quiet import zone

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
# Slack refuses a message whose blocks hold more than about 12,000 characters of text
# (`msg_blocks_too_long`); a card stays well under it whatever the agent sent, before and after
# the decision (1,500 to spare). Lists show their first rows and say how many more the trace has.
CARD_TEXT_BUDGET = 10_500
SHOWN = {"reasons": 6, "sources": 4, "changes": 10, "edits": 10, "fields": 8, "checks": 5}
LINE = 200  # one reason, excerpt or check detail
VALUE = 80  # one field value
TRIM_ORDER = ("sources", "summary", "message", "task", "why", "changes", "salesforce", "outcome")
TRIM_FLOOR = 300
Block = dict[str, Any]


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Cut text to a Block Kit limit, saying visibly that it was cut."""
    if len(text) <= limit:
        return text
    marker = "… (truncated)"
    return text[: limit - len(marker)] + marker


def value_text(value: Any) -> str:
    """A field value for a card line: escaped, clipped, `(empty)` when there is none."""
    return "(empty)" if value in (None, "") else esc(clip(str(value), VALUE))


def local_time(moment: datetime, tz: str) -> str:
    """A moment as the reviewer reads it, e.g. `Tue 24 Nov 14:00 EST`."""
    return moment.astimezone(zone(tz)).strftime("%a %d %b %H:%M %Z")


def section(text: str, block_id: str | None = None) -> Block:
    """A mrkdwn section, clipped to the limit."""
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    return block | ({"block_id": block_id} if block_id else {})


def context(*parts: str) -> Block:
    """A context line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(p)} for p in parts]}


def more(shown: int, total: int, what: str, trace: str) -> list[str]:
    """The line that says how many rows were left out, and where the rest is."""
    return [f"… and {total - shown} more {what}: {trace}"] if total > shown else []


def text_length(blocks: Any) -> int:
    """Characters of text in every text object of a block tree (what Slack adds up)."""
    if isinstance(blocks, list):
        return sum(text_length(b) for b in blocks)
    if not isinstance(blocks, dict):
        return 0
    own = len(blocks["text"]) if blocks.get("type") in ("mrkdwn", "plain_text") else 0
    return own + sum(text_length(v) for v in blocks.values() if isinstance(v, list | dict))


def within_budget(blocks: list[Block], trace: str) -> list[Block]:
    """Shorten sections, least needed first, until the card's text fits CARD_TEXT_BUDGET.

    The per-list caps keep ordinary cards far below it; this is the guarantee for the rest.
    The decision's outcome is shortened last; buttons and footer hold no long text.
    """
    blocks = [dict(b) for b in blocks]
    for block_id in TRIM_ORDER:
        excess = text_length(blocks) - CARD_TEXT_BUDGET
        if excess <= 0:
            break
        for block in blocks:
            text = block.get("text", {}).get("text", "")
            if block.get("block_id") == block_id and len(text) > TRIM_FLOOR:
                keep = max(TRIM_FLOOR, len(text) - excess - 100)
                note = f"\n… (shortened: {trace})"
                block["text"] = {"type": "mrkdwn", "text": _cut_lines(text, keep) + note}
    return blocks


def _cut_lines(text: str, limit: int) -> str:
    """Text cut at a line break at or before `limit`, so no link or markup is split."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > 0 else limit]


def fit(blocks: list[Block]) -> list[Block]:
    """Keep within 50 blocks: drop from the middle and say so, never the buttons or footer."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    head, tail = blocks[: MAX_BLOCKS - 3], blocks[-2:]
    return [*head, context(f"… {len(blocks) - MAX_BLOCKS + 1} more blocks not shown"), *tail]


# Keys that are not Salesforce fields of the record: what a person calls them.
KEY_LABELS = {
    "task.subject": "Task subject",
    "task.due_date": "Task due date",
    "task.description": "Task description",
    "message.to": "Message to",
    "message.subject": "Message subject",
    "message.body": "Message body",
    "summary": "Summary",
}


def label(labels: Mapping[str, str], key: str) -> str:
    """The label a person reads for a field or key: describe()'s, else a friendly name."""
    return labels.get(key) or KEY_LABELS.get(key) or key
