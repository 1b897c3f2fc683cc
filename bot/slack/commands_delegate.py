"""`/airlock delegate @person [until YYYY-MM-DD]` and `/airlock delegate off`: text in, answer out.

With "Escape channels, users, and links sent to your app" on (manifest `should_escape: true`),
Slack sends a mention typed in a slash command as `<@U012ABCDEF>` or `<@U012ABCDEF|name>`
(https://docs.slack.dev/interactivity/implementing-slash-commands, "Escaping channels, users,
and links"; https://docs.slack.dev/messaging/formatting-message-text, "Mentioning users").
"""

from __future__ import annotations

import re

from bot.base.errors import InvalidInput
from bot.core import delegation
from bot.core.delegation_rules import DEFAULT_DAYS, parse_until
from bot.core.runtime import Runtime
from bot.slack.blocks import local_time

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
USAGE = "delegate @person [until YYYY-MM-DD] | delegate off"


def run(rt: Runtime, user: str, args: list[str], tz: str) -> str:
    """Start or end the user's delegation."""
    if args == ["off"]:
        delegate = delegation.stop(rt, user)
        return f":busts_in_silhouette: Delegation to <@{delegate}> is off: your items come to you."
    if not args:
        current = delegation.current(rt, user)
        if current is None:
            return f"You are not delegating. Usage: `/airlock {USAGE}`"
        ends = local_time(current.until, tz)
        return f"You delegate to <@{current.delegate}> until {ends}. `/airlock delegate off`"
    found = _MENTION.fullmatch(args[0])
    if not found:
        raise InvalidInput(f"name the person as a mention (@name), not {args[0]!r}: {USAGE}")
    until = parse_until(args[1:], rt.clock(), tz)
    moved = delegation.start(rt, user, found[1], until)
    default = "" if args[1:] else f" (the default: {DEFAULT_DAYS} days)"
    return (
        f":busts_in_silhouette: Until {local_time(until, tz)}{default}, your new and pending "
        f"items and escalations go to <@{found[1]}>, who may decide them (you still may). "
        f"{moved} pending item(s) moved. It ends by itself; `/airlock delegate off` ends it now."
    )
