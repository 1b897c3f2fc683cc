"""`/airlock pause|resume agent:<name>|record:<id> [for 2h] [reason]`: text in, answer out."""

from __future__ import annotations

from bot.base.errors import InvalidInput
from bot.core import scoped_pause
from bot.core.runtime import Runtime
from bot.core.scopes import AGENT, parse_for, parse_scope
from bot.slack.blocks import esc, local_time

USAGE = "pause agent:<name>|record:<id> [for 2h] [reason]"


def is_scope(word: str) -> bool:
    """Whether a pause/resume target names a scope rather than a workflow."""
    return word.lower().startswith(("agent:", "record:"))


def run(rt: Runtime, user: str, pausing: bool, args: list[str], tz: str) -> str:
    """`pause <scope> ...` or `resume <scope>`."""
    return pause(rt, user, args, tz) if pausing else resume(rt, user, args[0])


def pause(rt: Runtime, user: str, args: list[str], tz: str) -> str:
    """Press an agent's or a record's stop button."""
    if not args:
        raise InvalidInput(f"usage: /airlock {USAGE}")
    scope = parse_scope(args[0])
    span, rest = parse_for(args[1:])
    reason = " ".join(rest) or None
    fresh = scoped_pause.pause(rt, scope, user, reason, span)
    until = (
        f" It resumes by itself {local_time(rt.clock() + span, tz)}."
        if span
        else f" `/airlock resume {scope.label}` releases them."
    )
    what = (
        f"every item of agent `{esc(scope.target)}`"
        if scope.kind == AGENT
        else f"every item on record `{scope.target}`"
    )
    if not fresh:
        return f"`{esc(scope.label)}` was already paused.{until}"
    why = f" ({esc(reason)})" if reason else ""
    return (
        f":double_vertical_bar: <@{user}> paused `{esc(scope.label)}`{why}: {what} is held "
        f"and pending ones wait; nothing is lost.{until}"
    )


def resume(rt: Runtime, user: str, target: str) -> str:
    """Release an agent's or a record's stop button; its held items go out in order."""
    scope = parse_scope(target)
    freed = scoped_pause.resume(rt, scope, user)
    more = f"; {freed} held item(s) released in order" if freed else ""
    return f":arrow_forward: <@{user}> resumed `{esc(scope.label)}`{more}."
