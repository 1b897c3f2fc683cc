"""The card's lower half: what happens next while it waits, and the outcome once decided."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.core.snooze import MAX_SNOOZES
from bot.slack.blocks_data import Card, Next
from bot.slack.blocks_fields import per_field_lines
from bot.slack.blocks_text import (
    LINE,
    SHOWN,
    VALUE,
    Block,
    clip,
    context,
    esc,
    label,
    local_time,
    more,
    section,
    value_text,
)

_CHANGES, _TASK = "writes these changes", "creates this task"
STATUS = {
    "pending": "Waiting for your decision",
    "held": "Held: the workflow is paused",
    "approved": "Approved",
    "edited": "Approved with edits",
    "rejected": "Rejected",
    "expired": "Expired: nobody decided in time",
    "auto_accepted": "Accepted automatically",
    "blocked": "Blocked by policy",
    "shadowed": "Shadow mode: recorded only",
    "held_out": "Held out: outcome holdout, never posted or written",
}


def _trace(v: dict[str, Any]) -> str:
    return f"`/airlock trace {v['id']}`"


def waiting(card: Card) -> list[Block]:
    """While pending: why it is here, what Approve does, and what happens if nobody decides."""
    lines = [*_routed(card), approve_effect(card.view, card.next)]
    if card.view.get("snoozed_until"):
        until = local_time(datetime.fromisoformat(card.view["snoozed_until"]), card.tz)
        lines.append(
            f":zzz: Snoozed until {until}: its reminder, escalation and expiry moved with it"
        )
    if not card.snoozable:
        lines.append(
            f":zzz: Snoozed {MAX_SNOOZES} times already: decide it, or it escalates when due"
        )
    if card.escalate_at is not None:
        lines.append(_deadline(card, card.escalate_at))
    return [context("\n".join(lines))]


def _routed(card: Card) -> list[str]:
    """Why this card is in front of this person, when it is not simply theirs to review."""
    v, lines = card.view, []
    if v.get("escalated") and card.for_manager:
        lines.append(
            f":arrow_up: Escalated to you: <@{v['assignee']}> did not decide in time; "
            "either of you can decide now."
        )
    elif v.get("escalated") and v.get("manager"):
        lines.append(f":arrow_up: Escalated to <@{v['manager']}>; either of you can decide.")
    if v["gate"] == "manager":
        why = [r for r in v.get("gate_reasons") or [] if "manager" in r]
        because = "; ".join(esc(clip(r, LINE)) for r in why[:3]) or "the workflow's policy"
        lines.append(f":bust_in_silhouette: A manager decides this item: {because}")
    return lines


def approve_effect(v: dict[str, Any], after: Next) -> str:
    """What pressing Approve does for this item, as the write-back and webhook code do it."""
    writes = [
        w for w, does in ((_CHANGES, after.writes_changes), (_TASK, after.creates_task)) if does
    ]
    if writes:
        return (
            f":white_check_mark: Approve {' and '.join(writes)} in Salesforce; a field Salesforce "
            "changed since the agent looked is not overwritten."
        )
    if after.tells_agent:
        records = "it records your decision and tells the agent"
    else:
        records = "it records your decision; the agent can read it from Airlock"
    if v.get("message"):
        return f":white_check_mark: Approve does not send this message: {records}."
    if v.get("changes") or v.get("task"):
        return f":white_check_mark: Approve writes nothing (write-back is off): {records}."
    return f":white_check_mark: Approve sends nothing by itself: {records}."


def _deadline(card: Card, at: datetime) -> str:
    when = local_time(at, card.tz)
    if card.for_manager or card.view.get("escalated"):
        return f":alarm_clock: If nobody decides, it expires {when}"
    target = card.next.escalates_to
    if target is None:
        return f":alarm_clock: If nobody decides, it expires {when} (nobody is above you)"
    who = "your manager" if card.next.escalates_as == "manager" else "the workflow's owner"
    return f":alarm_clock: If nobody decides, it goes to <@{target}> ({who}) {when}"


def outcome(card: Card) -> list[Block]:
    """After the decision: who decided what and when, edits, reason, and Salesforce's answer."""
    v = card.view
    lines = [f"*{STATUS.get(v['status'], v['status'])}*"]
    decision = v.get("decision") or {}
    if decision.get("by") and v["status"] in ("approved", "edited", "rejected"):
        when = local_time(datetime.fromisoformat(decision["at"]), card.tz)
        lines[0] += f" by <@{decision['by']}> at {when}"
    fields = per_field_lines(v, card.facts.labels)
    if fields is not None:
        lines += fields
    elif decision.get("edits"):
        edits = list(decision["edits"].items())
        lines += [
            f"• {esc(clip(label(card.facts.labels, f), VALUE))}: "
            f"{value_text(e['from'])} → *{value_text(e['to'])}*"
            for f, e in edits[: SHOWN["edits"]]
        ]
        lines += more(min(len(edits), SHOWN["edits"]), len(edits), "edits", _trace(v))
    if decision.get("reason"):
        text = f": {esc(clip(decision['text'], 500))}" if decision.get("text") else ""
        lines.append(f"Reason: *{decision['reason'].replace('_', ' ')}*{text}")
    blocks = [section("\n".join(lines), "outcome")]
    salesforce = writeback_lines(v, card.tz, card.facts.labels)
    return blocks + ([section("\n".join(salesforce), "salesforce")] if salesforce else [])


def writeback_lines(
    v: dict[str, Any], tz: str = "UTC", labels: Mapping[str, str] | None = None
) -> list[str]:
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
        name = esc(label(labels or {}, r["field"]))
        if r["state"] == "conflict":
            lines.append(
                f"• {name}: not overwritten, Salesforce now has "
                f"{value_text(r.get('current'))} but the agent saw {value_text(r.get('observed'))}"
            )
        else:
            lines.append(f"• {name}: {r['state']}: {clip(r.get('message') or '', LINE)}")
    shown = min(len(unwritten), SHOWN["fields"])
    lines += more(shown, len(unwritten), "fields not written", _trace(v))
    if details.get("task_id"):
        lines.append(f"• Task created `{details['task_id']}`")
    if details.get("error"):
        lines.append(f"• {clip(details['error'], 500)}")
    return lines
