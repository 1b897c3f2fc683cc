"""How a Slack listener answers the person: who clicked, a private reply, refusals as messages."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient

from bot.base.errors import AirlockError
from bot.slack.guard import Replayed

log = logging.getLogger(__name__)
# How many clicks do their work after the ack at once. Python runs one thread at a time and
# shares the interpreter among every runnable thread in turn, so 50 clicks deciding at once made
# each new click's ack wait its turn behind all of them: p50 1.7-2.7x a bare Bolt app
# (bench/ack.py). A click past these waits, asleep, once Slack has its ack; the database
# takes one writer at a time on SQLite anyway.
WORK_PERMITS = 4
_work = threading.BoundedSemaphore(WORK_PERMITS)


def user_of(body: dict[str, Any]) -> str:
    """The Slack user who clicked, typed or submitted."""
    return str(body.get("user", {}).get("id") or body.get("user_id"))


def tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An answer only the person sees: ephemeral where there is a channel, else a DM."""
    user = user_of(body)
    channel = body.get("channel", {}).get("id") or body.get("channel_id")
    if channel:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        client.chat_postMessage(channel=user, text=text)


def refusals_as_messages(listener: Callable[..., None]) -> Callable[..., None]:
    """Turn domain errors raised after ack() into a message for the person.

    Raising out of a listener that already acked can turn Slack's 200 into a 500 in Bolt's thread
    runner, so refusals ("already decided", "not permitted") are answered here instead. Listeners
    using this must take `body` and `client`. A replayed click stops here too: its ack() raised
    Replayed once Slack had its answer (bot.app.CheckedAck), and the replayer is not the person
    on the card, so only the log hears of it.
    """

    @functools.wraps(listener)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            listener(*args, **kwargs)
        except AirlockError as exc:
            tell(kwargs["client"], kwargs["body"], f":no_entry: {exc.detail}")
        except Replayed as exc:
            log.warning("%s", exc)

    return wrapper


@contextmanager
def work_turn() -> Iterator[None]:
    """One of WORK_PERMITS, held around a click's database work after its ack (not around its
    Slack calls: waiting on the network does not hold the interpreter), so the acks of the
    clicks behind it are not slowed. Not for the ack itself, nor before a modal opens: Slack's
    trigger_id expires 3 s after the click, whatever queue the work is in."""
    with _work:
        yield
