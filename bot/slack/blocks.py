"""The review card: pure Block Kit builders rendered from an item's stored state.

The same function renders the card before and after a decision, so what a reviewer sees is
always what the database says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.base.mrkdwn import (
    esc as esc,
)  # the Block Kit builders escape with it; others import it here
from bot.base.quiet import zone
from bot.slack.ids import BUTTON_LABELS, Action

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
# Slack refuses a message whose blocks hold more than about 12,000 characters of text
# (`msg_blocks_too_long`); a card stays well under it whatever the agent sent, before and after
# the decision. Lists show their first rows and say how many more the trace has.
CARD_TEXT_BUDGET = 10_000
SHOWN = {"reasons": 6, "sources": 4, "changes": 10, "edits": 10, "fields": 8, "checks": 5}
LINE = 200  # one reason, excerpt or check detail
VALUE = 80  # one field value
TRIM_ORDER = ("sources", "summary", "message", "task", "why", "changes", "salesforce", "outcome")
TRIM_FLOOR = 300
Block = dict[str, Any]
_STATUS = {
    "pending": "Waiting for your decision",
    "held": "Held: the workflow is paused",
    "approved": "Approved",
    "edited": "Approved with edits",
    "rejected": "Rejected",
    "expired": "Expired: nobody decided in time",
    "auto_accepted": "Accepted automatically",
    "blocked": "Blocked by policy",
    "shadowed": "Shadow mode: recorded only",
}


@dataclass(frozen=True)
class Card:
    """What the card needs beyond the item view: names, the reviewer's zone, the deadline."""

    view: dict[str, Any]
    workflow_name: str
    tz: str = "UTC"
    escalate_at: datetime | None = None
    for_manager: bool = False


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Cut text to a Block Kit limit, saying visibly that it was cut."""
    if len(text) <= limit:
        return text
    marker = "… (truncated)"
    return text[: limit - len(marker)] + marker


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


def review_card(card: Card) -> tuple[list[Block], str]:
    """Blocks and fallback text of the review card, in any status."""
    v = card.view
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(v["title"], HEADER_LIMIT)}},
        context(_headline(card)),
    ]
    if v.get("summary"):
        blocks.append(section(esc(clip(v["summary"], 1200)), "summary"))
    blocks += _why(v) + _proposal(v) + _warnings(v)
    blocks += _outcome(card)
    if v["status"] == "pending":
        blocks.append(_buttons(v["id"]))
    blocks.append(context(f"Item `{v['id']}` · {v['authority']} · {_trace(v)}"))
    # The fallback is the notification text (pushes, the sidebar): mrkdwn, so escaped too.
    fallback = f"{esc(clip(v['title'], HEADER_LIMIT))} ({_STATUS.get(v['status'], v['status'])})"
    return within_budget(fit(blocks), _trace(v)), fallback


def _trace(v: dict[str, Any]) -> str:
    return f"`/airlock trace {v['id']}`"


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


def _headline(card: Card) -> str:
    v = card.view
    decision = v.get("decision") or {}
    if v["authority"] == "confirmed" and decision.get("by"):
        authority = f"*confirmed* by <@{decision['by']}>"
    else:
        authority = "*advisory*: nothing changes until a person approves"
    who = " · escalated to you" if card.for_manager else ""
    return (
        f"*{v['level']}* · gate *{v['gate']}* · {card.workflow_name} · agent `{v['agent']}` · "
        f"{authority}{who}"
    )


def _why(v: dict[str, Any]) -> list[Block]:
    blocks = []
    trace = _trace(v)
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
    record = v.get("record")
    fields = [{"type": "mrkdwn", "text": f"*Confidence*\n{shown}"}]
    if record:
        fields.append({"type": "mrkdwn", "text": f"*Record*\n{record['sobject']} `{record['id']}`"})
    blocks.append({"type": "section", "fields": fields})
    return blocks


def _source(source: dict[str, Any]) -> str:
    title = esc(clip(source["title"], 100)).replace("|", "¦")
    url = source.get("url") or ""
    # A very long address would eat the card's budget: the trace keeps it.
    line = f"<{esc(url)}|{title}>" if url and len(url) <= 300 else title
    if source.get("excerpt"):
        line += f"\n> {esc(clip(source['excerpt'], 150)).replace(chr(10), ' ')}"
    return line


def _proposal(v: dict[str, Any]) -> list[Block]:
    blocks = []
    if v.get("changes"):
        changes = v["changes"][: SHOWN["changes"]]
        lines = [
            f"• *{esc(clip(c['field'], VALUE))}*: "
            f"{_value(c.get('observed')) if c.get('observed_given') else '?'}"
            f" → *{_value(c['value'])}*"
            for c in changes
        ]
        lines += more(len(changes), len(v["changes"]), "changes", _trace(v))
        title = "*Proposed changes* (current → proposed)\n"
        blocks.append(section(title + "\n".join(lines), "changes"))
    if v.get("task"):
        t = v["task"]
        due = f" · due {t['due_date']}" if t.get("due_date") else ""
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


def _value(value: Any) -> str:
    return "(empty)" if value in (None, "") else esc(clip(str(value), VALUE))


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


def _outcome(card: Card) -> list[Block]:
    v = card.view
    if v["status"] == "pending":
        return _waiting(card)
    lines = [f"*{_STATUS.get(v['status'], v['status'])}*"]
    decision = v.get("decision") or {}
    if decision.get("by") and v["status"] in ("approved", "edited", "rejected"):
        when = local_time(datetime.fromisoformat(decision["at"]), card.tz)
        lines[0] += f" by <@{decision['by']}> at {when}"
    if decision.get("edits"):
        edits = list(decision["edits"].items())
        lines += [
            f"• {esc(clip(f, VALUE))}: {_value(e['from'])} → *{_value(e['to'])}*"
            for f, e in edits[: SHOWN["edits"]]
        ]
        lines += more(min(len(edits), SHOWN["edits"]), len(edits), "edits", _trace(v))
    if decision.get("reason"):
        text = f": {esc(clip(decision['text'], 500))}" if decision.get("text") else ""
        lines.append(f"Reason: *{decision['reason'].replace('_', ' ')}*{text}")
    blocks = [section("\n".join(lines), "outcome")]
    salesforce = writeback_lines(v, card.tz)
    return blocks + ([section("\n".join(salesforce), "salesforce")] if salesforce else [])


def _waiting(card: Card) -> list[Block]:
    v = card.view
    lines = []
    if v.get("escalated") and card.for_manager:
        lines.append(
            f":arrow_up: Escalated to you: <@{v['assignee']}> has not decided yet; "
            "either of you can decide now."
        )
    elif v.get("escalated"):
        lines.append(f":arrow_up: Escalated to <@{v['manager']}>; either of you can decide.")
    if card.escalate_at is not None:
        target = "expires" if card.for_manager or v.get("escalated") else "goes to your manager"
        lines.append(
            f":alarm_clock: If nobody decides, it {target} {local_time(card.escalate_at, card.tz)}"
        )
    return [context("\n".join(lines))] if lines else []


def writeback_lines(v: dict[str, Any], tz: str = "UTC") -> list[str]:
    """What happened in Salesforce, per field: written, conflict (with values) or failed."""
    state = v.get("writeback_state", "none")
    if state == "none":
        return []
    details = v.get("writeback") or {}
    if state == "queued" and details.get("waiting_since"):
        since = local_time(datetime.fromisoformat(details["waiting_since"]), tz)
        return [
            f":hourglass_flowing_sand: Salesforce: waiting for Salesforce since {since} "
            f"({details.get('retry') or 'unavailable'}); it keeps retrying, nothing is lost"
        ]
    if state == "queued":
        return [":hourglass_flowing_sand: Salesforce: queued (waits and retries if it is down)"]
    lines = [f"Salesforce: *{state}*"]
    unwritten = [r for r in details.get("results", []) if r["state"] != "written"]
    for r in unwritten[: SHOWN["fields"]]:
        if r["state"] == "conflict":
            lines.append(
                f"• {r['field']}: not overwritten, Salesforce now has "
                f"{_value(r.get('current'))} but the agent saw {_value(r.get('observed'))}"
            )
        else:
            lines.append(f"• {r['field']}: {r['state']}: {clip(r.get('message') or '', LINE)}")
    shown = min(len(unwritten), SHOWN["fields"])
    lines += more(shown, len(unwritten), "fields not written", _trace(v))
    if details.get("task_id"):
        lines.append(f"• Task created `{details['task_id']}`")
    if details.get("error"):
        lines.append(f"• {clip(details['error'], 500)}")
    return lines


def _buttons(item_id: str) -> Block:
    styles = {Action.APPROVE: "primary", Action.REJECT: "danger"}
    elements = []
    for action, label in BUTTON_LABELS.items():
        button: Block = {
            "type": "button",
            "action_id": action.value,
            "value": item_id,
            "text": {"type": "plain_text", "text": label},
        }
        if action in styles:
            button["style"] = styles[action]
        elements.append(button)
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
