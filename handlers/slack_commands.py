"""`/airlock`: parse the text, run it in the runtime, answer in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.runtime import Runtime
from bot.slack import commands
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import SLASH_COMMAND


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """The slash command listener."""

    @app.command(SLASH_COMMAND)
    def airlock(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        # The quick part of every sub-command rides on the ack (Slack shows it at once, no
        # response_url round trip). Long work (`then`) runs after it: Bolt has already answered
        # Slack once ack() is called, and the person gets a DM when it is done.
        user = command["user_id"]
        tz = people.timezone_of(user, cached_only=True)
        answer = commands.run(rt, user, command.get("text", ""), tz)
        ack(text=answer.text, response_type="in_channel" if answer.public else "ephemeral")
        if answer.then is not None:
            client.chat_postMessage(channel=user, text=answer.then())
