"""The review card: pure Block Kit builders rendered from an item's stored state.

The same function renders the card before and after a decision, so what a reviewer sees is
always what the database says. What Salesforce says at card time (the record's name, field
labels, live values) is read before the builder and handed in as `RecordFacts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.slack.blocks_data import Card, Next, RecordFacts
from bot.slack.blocks_outcome import STATUS, outcome, waiting, writeback_lines
from bot.slack.blocks_snooze import snooze_menu
from bot.slack.blocks_text import (
    HEADER_LIMIT,
    LINE,
    MAX_BLOCKS,
    SECTION_LIMIT,
    SHOWN,
    VALUE,
    Block,
    clip,
    context,
    esc,
    fit,
    label,
    local_time,
    more,
    section,
    text_length,
    value_text,
    within_budget,
)
from bot.slack.ids import BUTTON_LABELS, Action

__all__ = [
    "MAX_BLOCKS",
    "SECTION_LIMIT",
    "Block",
    "Card",
    "Next",
    "RecordFacts",
    "clip",
    "context",
    "esc",
    "fit",
    "local_time",
    "resume_prompt",
    "review_card",
    "section",
    "text_length",
    "writeback_lines",
]


def review_card(card: Card) -> tuple[list[Block], str]:
    """Blocks and fallback text of the review card, in any status."""
    v = card.view
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(v["title"], HEADER_LIMIT)}},
        context(_headline(card)),
    ]
    if v.get("summary"):
        blocks.append(section(esc(clip(v["summary"], 1200)), "summary"))
    blocks += _why(card) + _proposal(card) + _warnings(v)
    blocks += outcome(card) if v["status"] != "pending" else waiting(card)
    if v["status"] == "pending":
        blocks.append(_buttons(v["id"], card.snoozable))
    blocks.append(context(f"Item `{v['id']}` · {v['authority']} · {_trace(v)}"))
    # The fallback is the notification text (pushes, the sidebar): mrkdwn, so escaped too.
    fallback = f"{esc(clip(v['title'], HEADER_LIMIT))} ({STATUS.get(v['status'], v['status'])})"
    return within_budget(fit(blocks), _trace(v)), fallback


def _trace(v: dict[str, Any]) -> str:
    return f"`/airlock trace {v['id']}`"


def _headline(card: Card) -> str:
    v = card.view
    decision = v.get("decision") or {}
    if v["status"] == "rejected" and decision.get("by"):
        authority = f"*rejected* by <@{decision['by']}>: nothing changes"
    elif v["authority"] == "confirmed" and decision.get("by"):
        authority = f"*confirmed* by <@{decision['by']}>"
    else:
        authority = "*advisory*: nothing changes until a person approves"
    who = " · escalated to you" if card.for_manager else ""
    return (
        f"*{v['level']}* · gate *{v['gate']}* · {card.workflow_name} · agent `{v['agent']}` · "
        f"{authority}{who}"
    )


def _why(card: Card) -> list[Block]:
    v, blocks, trace = card.view, [], _trace(card.view)
    if v.get("reasons"):
        reasons = v["reasons"][: SHOWN["reasons"]]
        lines = [f"• {esc(clip(r, LINE))}" for r in reasons]
        lines += more(len(reasons), len(v["reasons"]), "reasons", trace)
        blocks.append(section("*Why*\n" + "\n".join(lines), "why"))
    if v.get("sources"):
        sources = v["sources"][: SHOWN["sources"]]
        lines = [_source(s) for s in sources]
        lines += more(len(sources), len(v["sources"]), "sources", trace)
        blocks.append(section("*Sources*\n" + "\n".join(lines), "sources"))
    confidence = v.get("confidence")
    shown = f"{confidence:.0%}" if confidence is not None else "not given"
    fields = [{"type": "mrkdwn", "text": f"*Confidence*\n{shown}"}]
    if v.get("record"):
        fields.append({"type": "mrkdwn", "text": f"*Record*\n{_record(v, card.facts)}"})
    blocks.append({"type": "section", "fields": fields})
    return blocks


def _record(v: dict[str, Any], facts: RecordFacts) -> str:
    """The record by name when Salesforce told it; by id only when it could not."""
    record = v["record"]
    if facts.name:
        return f"{record['sobject']}: *{esc(clip(facts.name, 150))}*"
    return f"{record['sobject']} `{record['id']}`"


def _source(source: dict[str, Any]) -> str:
    title = esc(clip(source["title"], 100)).replace("|", "¦")
    url = source.get("url") or ""
    # A very long address would eat the card's budget: the trace keeps it.
    line = f"<{esc(url)}|{title}>" if url and len(url) <= 300 else title
    if source.get("excerpt"):
        line += f"\n> {esc(clip(source['excerpt'], 150)).replace(chr(10), ' ')}"
    return line


def _proposal(card: Card) -> list[Block]:
    v, blocks = card.view, []
    if v.get("changes"):
        blocks.append(section(_changes(card), "changes"))
    if v.get("task"):
        t = v["task"]
        due = f" · due {esc(t['due_date'])}" if t.get("due_date") else ""
        description = esc(clip(t.get("description") or "", 600))
        subject = esc(clip(t["subject"], 150))
        blocks.append(section(f"*Task*: {subject}{due}\n{description}", "task"))
    if v.get("message"):
        m = v["message"]
        to = esc(clip(", ".join(m["to"]), 300))
        subject = esc(clip(m.get("subject") or "(no subject)", 150))
        body = esc(clip(m["body"], 1000))
        blocks.append(section(f"*Draft to* {to}\n*{subject}*\n{body}", "message"))
    return blocks


def _changes(card: Card) -> str:
    """Current -> proposed, where current is Salesforce's live value when it could be read."""
    v, facts = card.view, card.facts
    live = facts.live if v["status"] == "pending" else None
    changes = v["changes"][: SHOWN["changes"]]
    lines = [_change_line(c, facts, live) for c in changes]
    lines += more(len(changes), len(v["changes"]), "changes", _trace(v))
    if live is not None:
        title = "*Proposed changes* (Salesforce now → proposed)"
    else:
        title = "*Proposed changes* (as the agent saw it → proposed)"
    head = [title]
    stale = [c["field"] for c in v["changes"] if c["field"] in facts.stale]
    if live is not None and stale:
        head.append(
            f":warning: *Stale proposal*: Salesforce changed {len(stale)} of these fields since "
            "the agent looked. Check before approving; a changed field is not overwritten."
        )
    elif v["status"] == "pending" and facts.unreadable:
        why = esc(clip(facts.unreadable, 150))
        head.append(
            f":grey_question: Salesforce could not be read just now ({why}): the live values were "
            "not checked. The write checks them again before changing anything."
        )
    return "\n".join(head + lines)


def _change_line(change: dict[str, Any], facts: RecordFacts, live: Mapping[str, Any] | None) -> str:
    name = esc(clip(label(facts.labels, change["field"]), VALUE))
    proposed = value_text(change["value"])
    saw = value_text(change.get("observed")) if change.get("observed_given") else "?"
    if live is None:
        return f"• *{name}*: {saw} → *{proposed}*"
    if change["field"] not in live:  # hidden from the integration user: not read
        return f"• *{name}*: {saw} (as the agent saw it) → *{proposed}*"
    now = value_text(live[change["field"]])
    line = f"• *{name}*: {now} → *{proposed}*"
    if change["field"] in facts.stale:
        line += f"\n    :warning: Salesforce now says {now}; the agent saw {saw}"
    return line


def _warnings(v: dict[str, Any]) -> list[Block]:
    failed = [c for c in v.get("checks", []) if not c["passed"]]
    if not failed:
        return []
    shown = failed[: SHOWN["checks"]]
    lines = [
        f":warning: {c['name']} ({c['on_fail']}): {esc(clip(c['detail'], LINE))}" for c in shown
    ]
    lines += more(len(shown), len(failed), "failed checks", _trace(v))
    return [context("\n".join(lines))]


def _buttons(item_id: str, snoozable: bool) -> Block:
    styles = {Action.APPROVE: "primary", Action.REJECT: "danger"}
    elements = []
    for action, text in BUTTON_LABELS.items():
        button: Block = {
            "type": "button",
            "action_id": action.value,
            "value": item_id,
            "text": {"type": "plain_text", "text": text},
        }
        if action in styles:
            button["style"] = styles[action]
        elements.append(button)
    if snoozable:
        elements.append(snooze_menu(item_id))
    return {"type": "actions", "block_id": f"review:{item_id}", "elements": elements}


def resume_prompt(text: str, workflow_id: str) -> list[Block]:
    """A notice with a Resume button (owners and admins may press it)."""
    button = {
        "type": "button",
        "action_id": Action.RESUME.value,
        "value": workflow_id,
        "style": "primary",
        "text": {"type": "plain_text", "text": "Resume"},
    }
    return [section(text), {"type": "actions", "elements": [button]}]
