"""App Home and `/airlock` answers: pure builders from read models."""

from __future__ import annotations

from datetime import timedelta

from bot.reporting.outcomes import lift_line
from bot.reporting.queries import Stats, WorkflowState
from bot.slack.blocks import Block, context, esc, local_time, section
from bot.slack.ids import BUTTON_LABELS, SLASH_COMMAND, Action
from models import Item

# A Home tab holds up to 100 blocks (slack_sdk/models/views/__init__.py, blocks_max_length;
# https://docs.slack.dev/surfaces/app-home), twice a message's 50.
HOME_BLOCKS = 100

HELP = f"""*Airlock* keeps AI agents' work behind a human gate.
`{SLASH_COMMAND} pause <workflow|all> [reason]` stop a workflow (items are held, nothing is lost)
`{SLASH_COMMAND} pause agent:<name>|record:<id> [for 2h] [reason]` stop one agent or one record
`{SLASH_COMMAND} resume <workflow>` release it (owner or admin; also `agent:<name>`, `record:<id>`)
`{SLASH_COMMAND} status [workflow]` paused or active, owner, pending items
`{SLASH_COMMAND} queue` items waiting for you
`{SLASH_COMMAND} trace <item>` what happened to an item, and why
`{SLASH_COMMAND} stats [workflow]` acceptance, edits, rejections and reasons
`{SLASH_COMMAND} promote <workflow>` ask for autopilot (granted only on evidence)
`{SLASH_COMMAND} demote <workflow>` take autopilot back: items go to human review (owner or admin)
`{SLASH_COMMAND} delegate @person [until YYYY-MM-DD]` while you are away (`delegate off` ends it)
`{SLASH_COMMAND} revert <item> [reason]` undo a write: Salesforce gets its earlier values back
`{SLASH_COMMAND} help` this list"""


def item_blocks(item: Item, tz: str) -> list[Block]:
    """One queued item with its decision buttons, for Home."""
    text = (
        f"*{esc(item.title)}*\n{item.workflow_id} · {item.level} · gate {item.gate} · "
        f"since {local_time(item.created_at, tz)} · `{item.id}`"
    )
    buttons = [
        {
            "type": "button",
            "action_id": action.value,
            "value": item.id,
            "text": {"type": "plain_text", "text": label},
        }
        for action, label in BUTTON_LABELS.items()
    ]
    return [section(text), {"type": "actions", "block_id": f"home:{item.id}", "elements": buttons}]


def workflow_blocks(state: WorkflowState, can_control: bool) -> list[Block]:
    """One workflow: state, owner, counts, and Pause/Resume for owners and admins."""
    icon = ":double_vertical_bar: paused" if state.paused else ":large_green_circle: active"
    reason = f" ({esc(state.paused_reason)})" if state.paused and state.paused_reason else ""
    text = (
        f"*{esc(state.name)}* `{state.id}` {icon}{reason}\n{state.level} · {state.mode} · "
        f"owner <@{state.owner}> · {state.pending} pending · {state.held} held"
    )
    block = section(text)
    if can_control:
        action = Action.RESUME if state.paused else Action.PAUSE
        block["accessory"] = {
            "type": "button",
            "action_id": action.value,
            "value": state.id,
            "text": {"type": "plain_text", "text": "Resume" if state.paused else "Pause"},
        }
        if not state.paused:
            block["accessory"]["style"] = "danger"
    return [block]


def home_view(
    mine: list[Item],
    team: list[Item],
    workflows: list[tuple[WorkflowState, bool]],
    tz: str,
    scopes: list[Block] | None = None,
) -> Block:
    """The App Home tab: the Workflows section (with Pause/Resume, then paused agents and
    records) always fits; queues share what is left and say how many more there are."""
    flows = _workflow_section(workflows) + (scopes or [])
    room = HOME_BLOCKS - len(flows)
    team_part = _team_section(team, min(len(team), 10) + 2 if team else 0)
    yours = _your_section(mine, tz, room - len(team_part))
    team_part = _team_section(team, room - len(yours))
    return {"type": "home", "blocks": yours + team_part + flows}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _your_section(mine: list[Item], tz: str, room: int) -> list[Block]:
    blocks = [_header("Waiting for you")]
    if not mine:
        return [*blocks, context("Nothing waiting for you. Agents' items arrive here and in DMs.")]
    # Two blocks an item, after the header; when they do not all fit, one more says so.
    shown = mine if 1 + 2 * len(mine) <= room else mine[: max(0, (room - 2) // 2)]
    for item in shown:
        blocks += item_blocks(item, tz)
    if len(shown) < len(mine):
        blocks.append(context(f"… {len(mine) - len(shown)} more waiting for you: `/airlock queue`"))
    return blocks


def _team_section(team: list[Item], room: int) -> list[Block]:
    if not team or room < 2:
        return []
    shown = team if len(team) + 1 <= room else team[: room - 2]
    blocks = [_header("Your team")]
    blocks += [
        section(f"*{esc(i.title)}* · <@{i.assignee}> · {i.workflow_id} · `{i.id}`") for i in shown
    ]
    if len(shown) < len(team):
        blocks.append(context(f"… {len(team) - len(shown)} more in your team"))
    return blocks


def _workflow_section(workflows: list[tuple[WorkflowState, bool]]) -> list[Block]:
    # Workflows are few; past 60 the rest are named in `/airlock status`.
    blocks = [_header("Workflows")]
    for state, can_control in workflows[:60]:
        blocks += workflow_blocks(state, can_control)
    if len(workflows) > 60:
        blocks.append(context(f"… {len(workflows) - 60} more: `/airlock status`"))
    return blocks


def status_text(states: list[WorkflowState]) -> str:
    """`/airlock status`."""
    lines = []
    for s in states:
        state = f"PAUSED ({s.paused_reason})" if s.paused else "active"
        lines.append(
            f"• `{s.id}` {state} · {s.level} · {s.mode} · owner <@{s.owner}> · "
            f"{s.pending} pending · {s.held} held"
        )
    return "\n".join(lines) or "No workflows are loaded."


def queue_text(items: list[Item], tz: str) -> str:
    """`/airlock queue`."""
    if not items:
        return "Nothing is waiting for you."
    return "\n".join(
        f"• *{esc(i.title)}* ({i.workflow_id}, gate {i.gate}) since "
        f"{local_time(i.created_at, tz)} · `{i.id}`"
        for i in items
    )


def stats_text(all_stats: list[Stats]) -> str:
    """`/airlock stats`: the evidence per workflow, a short paragraph each."""
    return "\n\n".join(_stats_paragraph(s) for s in all_stats) or "No workflows."


def _stats_paragraph(s: Stats) -> str:
    head = f"*{s.workflow}*: {s.received} received, {s.pending} waiting for a decision"
    if not s.decided:
        lines = [head, "No decisions yet."]
    else:
        lines = [
            head,
            f"Accepted *{s.acceptance_rate or 0:.0%}* of {s.decided} decided: "
            f"{s.approved} approved, {s.edited} edited, {s.rejected} rejected",
        ]
        if s.median_decision is not None:
            lines.append(f"Median time to decision: {span_text(s.median_decision)}")
    if s.expired:
        lines.append(f"{s.expired} expired unanswered")
    if s.reverted:
        lines.append(
            f"{s.reverted} written and then reverted (undone, or changed back in Salesforce)"
        )
    if s.top_reasons:
        reasons = ", ".join(f"{r.replace('_', ' ')} ({n})" for r, n in s.top_reasons)
        lines.append(f"Top reject reasons: {reasons}")
    lines += [f":eyes: Possible rubber-stamping: <@{r.reviewer}> {r}" for r in s.rubber_stamps]
    return "\n".join(lines + _outcome_lines(s))


def _outcome_lines(s: Stats) -> list[str]:
    """Held-out items, and each metric's lift against the holdout, overall then per segment."""
    lines = [f"{s.held_out} held out (never posted or written)"] if s.held_out else []
    if s.lifts:
        lines.append("Outcomes vs holdout (intention to treat):")
        lines += [f"• {lift_line(lift)}" for lift in s.lifts]
    for segment, found in s.segment_lifts.items():
        lines += [f"• _{segment}_ {lift_line(lift)}" for lift in found]
    return lines


def span_text(span: timedelta) -> str:
    """A duration as people say it: `< 1 min`, `42 min`, `3 h 5 min`, `2 d 4 h`."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "< 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
