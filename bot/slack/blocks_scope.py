"""Scoped stop buttons (status, Home) and moved cards (delegation): pure builders."""

from __future__ import annotations

from bot.slack.blocks import Block, context, esc, local_time, section
from models import PauseScope


def scope_line(row: PauseScope, tz: str) -> str:
    """One pressed scope: what, who, why, and until when."""
    who = row.paused_by.removeprefix("user:")
    until = f" · resumes by itself {local_time(row.until, tz)}" if row.until else ""
    why = f" ({esc(row.reason)})" if row.reason else ""
    return f"`{row.kind}:{esc(row.target)}` PAUSED by <@{who}>{why}{until}"


def scopes_text(rows: list[PauseScope], tz: str) -> str:
    """The part of `/airlock status` about agents and records; empty when none is paused."""
    if not rows:
        return ""
    return "\n*Paused agents and records*\n" + "\n".join(f"• {scope_line(r, tz)}" for r in rows)


def scope_blocks(rows: list[PauseScope], tz: str) -> list[Block]:
    """Home: one context line per pressed scope (at most 10; the rest in `/airlock status`)."""
    blocks = [context(f":double_vertical_bar: {scope_line(r, tz)}") for r in rows[:10]]
    if len(rows) > 10:
        blocks.append(context(f"… {len(rows) - 10} more paused scopes: `/airlock status`"))
    return blocks


def moved_bundle(delegate: str) -> tuple[list[Block], str]:
    """The blocks and text a delegator's bundle is replaced with once all its rows moved."""
    text = (
        f":busts_in_silhouette: Delegated: <@{delegate}> decides these items now (you still "
        "may: `/airlock queue`)."
    )
    return [section(text)], text


def moved_card(item_id: str, delegate: str) -> tuple[list[Block], str]:
    """The blocks and text a delegator's card is replaced with once the item moved."""
    text = (
        f":busts_in_silhouette: Delegated: <@{delegate}> decides this item now (you still may: "
        f"`/airlock queue`, or `/airlock trace {item_id}`)."
    )
    return [section(text)], text
