"""`/airlock` sub-commands, independent of Slack payloads: text in, answer out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.base.errors import AirlockError, InvalidInput
from bot.core import autonomy, control, decisions, lifecycle, refusals, scoped_pause, undo
from bot.core.decisions import NotPermitted
from bot.core.release import held_count, release_all
from bot.core.runtime import Runtime
from bot.core.trace import item_view, render_trace
from bot.reporting import queries
from bot.slack import commands_delegate, commands_scope
from bot.slack.blocks import esc
from bot.slack.blocks_home import HELP, queue_text, stats_text, status_text
from bot.slack.blocks_scope import scopes_text
from bot.slack.ids import Command
from models import Item
from models.types import utcnow


@dataclass(frozen=True)
class Answer:
    """What to say, whether the whole channel should see it, and any work left after the answer.

    `then` is the long part of a command (releasing thousands of held items): the caller answers
    first (Slack allows 3 seconds), then runs it and tells the person what it returns.
    """

    text: str
    public: bool = False
    then: Callable[[], str] | None = None


def run(rt: Runtime, user: str, text: str, tz: str = "UTC") -> Answer:
    """Parse and run one `/airlock` line; unknown input gets the help."""
    words = text.split()
    name, args = (words[0].lower(), words[1:]) if words else ("help", [])
    try:
        command = Command(name)
    except ValueError:
        return Answer(f"I don't know `{name}`.\n{HELP}")
    try:
        return _dispatch(rt, user, command, args, tz)
    except AirlockError as exc:
        return Answer(f":no_entry: {exc.detail}")


def _dispatch(rt: Runtime, user: str, command: Command, args: list[str], tz: str) -> Answer:
    if (answer := _scoped(rt, user, command, args, tz)) is not None:
        return answer
    if command is Command.PAUSE:
        return _pause(rt, user, args)
    if command is Command.RESUME:
        return _resume(rt, user, _one(args, "resume <workflow>"))
    if command is Command.STATUS:
        states = [s for s in queries.workflow_states(rt) if not args or s.id == args[0]]
        if args and not states:
            rt.spec(args[0])
        return Answer(status_text(states) + scopes_text(scoped_pause.pressed(rt), tz))
    if command is Command.QUEUE:
        return Answer(queue_text(queries.my_queue(rt, user, limit=25), tz))
    if command is Command.TRACE:
        return _trace(rt, user, _one(args, "trace <item id>"))
    if command in (Command.PROMOTE, Command.DEMOTE):
        return _autonomy(rt, user, command, args)
    if command is Command.REVERT:
        return _revert(rt, user, args)
    if command is Command.STATS:
        ids = [rt.spec(args[0]).id] if args else sorted(rt.specs.specs)
        return Answer(stats_text([queries.stats(rt, w) for w in ids]))
    return Answer(HELP)


def _autonomy(rt: Runtime, user: str, command: Command, args: list[str]) -> Answer:
    if command is Command.PROMOTE:
        workflow = _one(args, "promote <workflow>")
        granted, found = autonomy.promote(rt, workflow, user)
        if granted:
            return Answer(
                f":rocket: <@{user}> promoted `{workflow}` to autopilot: {found}. "
                "Low-risk items are now accepted without review; external messages "
                "and customer decisions still go to a person.",
                public=True,
            )
        return Answer(f"Not yet ({'; '.join(found.shortfalls())}). Evidence: {found}.")
    workflow = _one(args, "demote <workflow>")
    if not autonomy.demote_command(rt, workflow, user):
        return Answer(f"`{workflow}` is not on autopilot; nothing to demote.")
    return Answer(
        f":arrow_down: <@{user}> demoted `{workflow}`: autopilot is off and new items go "
        "to human review again.",
        public=True,
    )


def _scoped(rt: Runtime, user: str, command: Command, args: list[str], tz: str) -> Answer | None:
    """Agent and record stop buttons, and delegation (their own modules); None: neither."""
    if command in (Command.PAUSE, Command.RESUME) and args and commands_scope.is_scope(args[0]):
        return Answer(commands_scope.run(rt, user, command is Command.PAUSE, args, tz), public=True)
    if command is Command.DELEGATE:
        return Answer(commands_delegate.run(rt, user, args, tz))
    return None


def _revert(rt: Runtime, user: str, args: list[str]) -> Answer:
    item_id = _one(args, "revert <item> [reason]")
    undo.request_undo(rt, item_id, user, " ".join(args[1:]) or None)
    return Answer(
        f":leftwards_arrow_with_hook: Reverting {item_id}: Salesforce gets back the values it "
        "held before Airlock's write. I'll tell you what was restored."
    )


def _resume(rt: Runtime, user: str, workflow: str) -> Answer:
    # The stop button is released at once; held items are released after the answer. They are
    # counted first: once resumed, the scheduler's tick may start releasing them too.
    rt.spec(workflow)
    with rt.db.read() as session:
        waiting = held_count(session, workflow, unscoped=True)
    control.resume(rt, workflow, user, release=0)
    if not waiting:
        return Answer(f":arrow_forward: <@{user}> resumed `{workflow}`.", public=True)

    def release() -> str:
        release_all(rt, workflow, actor=f"user:{user}")
        with rt.db.read() as session:
            left = held_count(session, workflow, unscoped=True)
        if left:
            return f":double_vertical_bar: `{workflow}` was paused again; {left} item(s) stay held."
        return f":white_check_mark: `{workflow}`: all {waiting} held item(s) released in order."

    return Answer(
        f":arrow_forward: <@{user}> resumed `{workflow}`; its {waiting} held item(s) are being "
        "released in order. I'll tell you when they are out.",
        public=True,
        then=release,
    )


def _trace(rt: Runtime, user: str, item_id: str) -> Answer:
    # A trace holds the item's content: only the people who may act on it read it.
    with rt.db.read() as session:
        view = item_view(session, item_id)
        item = session.get(Item, item_id)
    assert item is not None  # item_view raised NotFound otherwise
    owner = rt.spec(item.workflow_id).spec.owner
    if not decisions.may_see(item, user, rt.settings.admins, owner):
        stream, actor = lifecycle.item_stream(item.id), f"user:{user}"
        with rt.db.write() as session:
            # Bounded like every refusal: nobody grows an item's trail by asking again and again.
            if refusals.worth_logging(session, stream, "trace_refused", actor, utcnow()):
                lifecycle.append_item_event(session, item, "trace_refused", actor, {})
        raise NotPermitted(
            f"only the reviewers of {item_id}, the owner of `{item.workflow_id}` and admins "
            "can read its trace"
        )
    return Answer(f"```{esc(render_trace(view)[:2900])}```")


def _pause(rt: Runtime, user: str, args: list[str]) -> Answer:
    target = _one(args[:1], "pause <workflow|all> [reason]")
    reason = " ".join(args[1:]) or None
    if target == "all":
        paused = control.pause_all(rt, user, reason)
        names = ", ".join(f"`{w}`" for w in paused) or "nothing new (all were paused)"
        return Answer(
            f":double_vertical_bar: <@{user}> paused {names}. New items are held; nothing is lost.",
            public=True,
        )
    if not control.pause(rt, target, user, reason):
        return Answer(f"`{target}` was already paused.")
    why = f" ({reason})" if reason else ""
    return Answer(
        f":double_vertical_bar: <@{user}> paused `{target}`{why}. New items are held "
        f"and queued writes wait; `/airlock resume {target}` releases them.",
        public=True,
    )


def _one(args: list[str], usage: str) -> str:
    if not args:
        raise InvalidInput(f"usage: /airlock {usage}")
    return args[0]
