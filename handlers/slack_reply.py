"""How a Slack listener answers the person: who clicked, a private reply, refusals as messages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.base.errors import AirlockError


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
    using this must take `body` and `client`.
    """

    @functools.wraps(listener)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            listener(*args, **kwargs)
        except AirlockError as exc:
            tell(kwargs["client"], kwargs["body"], f":no_entry: {exc.detail}")

    return wrapper
