"""The review card: pure Block Kit builders rendered from an item's stored state.

The same function renders the card before and after a decision, so what a reviewer sees is
always what the database says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.quiet import zone
from bot.slack_ids import BUTTON_LABELS, Action

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
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


def esc(text: object) -> str:
    """Escape agent-written text for mrkdwn, so it cannot ping @channel or forge links."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def local_time(moment: datetime, tz: str) -> str:
    """A moment as the reviewer reads it, e.g. `Tue 24 Nov 14:00 EST`."""
    return moment.astimezone(zone(tz)).strftime("%a %d %b %H:%M %Z")


def section(text: str) -> Block:
    """A mrkdwn section, clipped to the limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


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
        blocks.append(section(esc(v["summary"])))
    blocks += _why(v) + _proposal(v) + _warnings(v)
    blocks += _outcome(card)
    if v["status"] == "pending":
        blocks.append(_buttons(v["id"]))
    blocks.append(context(f"Item `{v['id']}` · {v['authority']} · `/airlock trace {v['id']}`"))
    return fit(blocks), f"{v['title']} ({_STATUS.get(v['status'], v['status'])})"


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
    if v.get("reasons"):
        blocks.append(section("*Why*\n" + "\n".join(f"• {esc(r)}" for r in v["reasons"])))
    if v.get("sources"):
        blocks.append(section("*Sources*\n" + "\n".join(_source(s) for s in v["sources"])))
    confidence = v.get("confidence")
    shown = f"{confidence:.0%}" if confidence is not None else "not given"
    record = v.get("record")
    fields = [{"type": "mrkdwn", "text": f"*Confidence*\n{shown}"}]
    if record:
        fields.append({"type": "mrkdwn", "text": f"*Record*\n{record['sobject']} `{record['id']}`"})
    blocks.append({"type": "section", "fields": fields})
    return blocks


def _source(source: dict[str, Any]) -> str:
    title = esc(source["title"]).replace("|", "¦")
    line = f"<{esc(source['url'])}|{title}>" if source.get("url") else title
    if source.get("excerpt"):
        line += f"\n> {esc(clip(source['excerpt'], 300))}"
    return line


def _proposal(v: dict[str, Any]) -> list[Block]:
    blocks = []
    if v.get("changes"):
        lines = [
            f"• *{c['field']}*: {_value(c.get('observed')) if c.get('observed_given') else '?'}"
            f" → *{_value(c['value'])}*"
            for c in v["changes"]
        ]
        blocks.append(section("*Proposed changes* (current → proposed)\n" + "\n".join(lines)))
    if v.get("task"):
        t = v["task"]
        due = f" · due {t['due_date']}" if t.get("due_date") else ""
        blocks.append(
            section(f"*Task*: {esc(t['subject'])}{due}\n{esc(t.get('description') or '')}")
        )
    if v.get("message"):
        m = v["message"]
        text = (
            f"*Draft to* {', '.join(m['to'])}\n*{m.get('subject') or '(no subject)'}*\n{m['body']}"
        )
        blocks.append(section(text))
    return blocks


def _value(value: Any) -> str:
    return "(empty)" if value in (None, "") else esc(value)


def _warnings(v: dict[str, Any]) -> list[Block]:
    failed = [c for c in v.get("checks", []) if not c["passed"]]
    if not failed:
        return []
    lines = [f":warning: {c['name']} ({c['on_fail']}): {c['detail']}" for c in failed]
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
        lines += [
            f"• {f}: {_value(e['from'])} → *{_value(e['to'])}*"
            for f, e in decision["edits"].items()
        ]
    if decision.get("reason"):
        text = f": {esc(decision['text'])}" if decision.get("text") else ""
        lines.append(f"Reason: *{decision['reason'].replace('_', ' ')}*{text}")
    lines += writeback_lines(v)
    return [section("\n".join(lines))]


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


def writeback_lines(v: dict[str, Any]) -> list[str]:
    """What happened in Salesforce, per field: written, conflict (with values) or failed."""
    state = v.get("writeback_state", "none")
    if state == "none":
        return []
    if state == "queued":
        return [":hourglass_flowing_sand: Salesforce: queued (waits and retries if it is down)"]
    details = v.get("writeback") or {}
    lines = [f"Salesforce: *{state}*"]
    for r in details.get("results", []):
        if r["state"] == "conflict":
            lines.append(
                f"• {r['field']}: not overwritten, Salesforce now has "
                f"{_value(r.get('current'))} but the agent saw {_value(r.get('observed'))}"
            )
        elif r["state"] != "written":
            lines.append(f"• {r['field']}: {r['state']}: {r.get('message') or ''}")
    if details.get("task_id"):
        lines.append(f"• Task created `{details['task_id']}`")
    if details.get("error"):
        lines.append(f"• {details['error']}")
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
