"""`/airlock`: parse the text, run it in the runtime, answer in the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.runtime import Runtime
from bot.slack import commands
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import SLASH_COMMAND


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """The slash command listener."""

    @app.command(SLASH_COMMAND)
    def airlock(ack: Ack, command: dict[str, Any]) -> None:
        # Every sub-command is a quick database read or write, so the answer rides on the ack
        # (Slack shows it at once and no response_url round trip is needed).
        user = command["user_id"]
        tz = people.timezone_of(user, cached_only=True)
        answer = commands.run(rt, user, command.get("text", ""), tz)
        ack(text=answer.text, response_type="in_channel" if answer.public else "ephemeral")
