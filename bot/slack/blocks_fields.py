"""The decided card's per-field lines: each proposed change applied, changed or declined."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.field_outcomes import CHANGED, DECLINED, field_outcomes
from bot.slack.blocks_text import SHOWN, VALUE, clip, esc, label, more, value_text


def per_field_lines(v: dict[str, Any], labels: Mapping[str, str]) -> list[str] | None:
    """Lines for a decision taken field by field (None for others), then edits of the rest."""
    decision = v.get("decision") or {}
    rows = field_outcomes(v.get("changes") or [], decision)
    if not rows:
        return None
    shown = rows[: SHOWN["edits"]]
    lines = [_line(r, labels) for r in shown]
    lines += more(len(shown), len(rows), "fields", f"`/airlock trace {v['id']}`")
    fields = {r["field"] for r in rows}
    others = [(f, e) for f, e in (decision.get("edits") or {}).items() if f not in fields]
    lines += [
        f"• {esc(clip(label(labels, f), VALUE))}: changed "
        f"{value_text(e['from'])} → *{value_text(e['to'])}*"
        for f, e in others[: SHOWN["edits"]]
    ]
    return lines


def _line(row: dict[str, Any], labels: Mapping[str, str]) -> str:
    name = esc(clip(label(labels, row["field"]), VALUE))
    if row["outcome"] == DECLINED:
        proposed = value_text(row["proposed"])
        return f"• {name}: :no_entry_sign: declined, not written (proposed {proposed})"
    if row["outcome"] == CHANGED:
        return f"• {name}: changed {value_text(row['proposed'])} → *{value_text(row['written'])}*"
    return f"• {name}: applied *{value_text(row['written'])}*"
