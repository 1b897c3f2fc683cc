"""Plain-text rendering for `airlock demo`: Slack cards, Salesforce writes and the metrics table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.reporting.queries import Stats
from bot.sandbox.salesforce_seed import SEED_PEOPLE

NAMES = {p.slack_id: p.name for p in SEED_PEOPLE}
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")
_STYLE = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?!\w)|(?<!\w)_(?!\s)([^_\n]+?)_(?!\w)")
_EMOJI = {
    ":alarm_clock:": "⏰",
    ":warning:": "!",
    ":no_entry:": "⛔",
    ":bell:": "🔔",
    ":hourglass_flowing_sand:": "⏳",
    ":double_vertical_bar:": "⏸",
    ":arrow_forward:": "▶",
    ":large_green_circle:": "●",
    ":white_check_mark:": "✔",
    ":rotating_light:": "🚨",
}


def name(user: str | None) -> str:
    """A seeded person's name (or the id)."""
    return NAMES.get(user or "", user or "nobody")


def plain(text: str) -> str:
    """Slack mrkdwn as terminal text: links and mentions resolved, styling and escapes removed."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return f"@{name(target[1:])}"
        return label or target

    text = _LINK.sub(link, text)
    text = _STYLE.sub(lambda m: m.group(1) or m.group(2), text).replace("`", "")
    for code, symbol in _EMOJI.items():
        text = text.replace(code, symbol)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def card_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """Every line a person reads on a card, buttons as [Label]."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("header", "section") and block.get("text"):
            lines += plain(block["text"]["text"]).splitlines()
        if kind == "section":
            lines += [plain(f["text"]).replace("\n", ": ", 1) for f in block.get("fields", [])]
        if kind == "context":
            lines += [plain(e.get("text", "")) for e in block.get("elements", [])]
        if kind == "actions":
            labels = [e["text"]["text"] for e in block.get("elements", []) if e.get("text")]
            lines.append("  ".join(f"[{label}]" for label in labels))
    return [line for line in lines if line.strip()]


def card_summary(blocks: list[dict[str, Any]]) -> list[str]:
    """The lines worth quoting from a new card: title, what it proposes, buttons."""
    lines = card_lines(blocks)
    keep = [lines[0]] if lines else []
    wanted = ("•", "Task:", "Draft to", "[Approve]", "⏰", "!", "Confidence")
    keep += [line for line in lines[1:] if line.lstrip().startswith(wanted)]
    return keep


def new_lines(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Lines an updated card has that the previous version did not (the id footer aside)."""
    seen = set(card_lines(before))
    return [line for line in card_lines(after) if line not in seen and not line.startswith("Item ")]


def fields_text(fields: dict[str, Any], width: int = 60) -> str:
    """`Field = value` pairs of a Salesforce write, long values cut to one short line."""
    shown = []
    for field, value in fields.items():
        text = repr(value).replace("\\n", " ")
        shown.append(f"{field} = {text if len(text) <= width else text[: width - 1] + '…'}")
    return ", ".join(shown)


def stats_table(rows: Iterable[Stats]) -> str:
    """Per workflow: received, approved, edited, rejected, expired, acceptance."""
    head = ("workflow", "received", "approved", "edited", "rejected", "expired", "acceptance")
    lines = [f"{head[0]:<22}" + "".join(f"{h:>11}" for h in head[1:])]
    for s in rows:
        rate = f"{s.acceptance_rate:.0%}" if s.acceptance_rate is not None else "n/a"
        counts = (s.received, s.approved, s.edited, s.rejected, s.expired)
        lines.append(f"{s.workflow:<22}" + "".join(f"{n:>11}" for n in counts) + f"{rate:>11}")
    return "\n".join(lines)
