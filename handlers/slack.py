"""Registers every Slack listener family and the one error handler."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.base.errors import AirlockError
from bot.core.runtime import Runtime
from bot.slack.delivery import ReviewerSource
from handlers import (
    slack_actions,
    slack_bundles,
    slack_commands,
    slack_home,
    slack_snooze,
    slack_views,
)
from handlers.slack_reply import tell


def register_listeners(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """Wire actions, views, commands and Home to the runtime."""
    slack_actions.register(app, rt, people)
    slack_bundles.register(app, rt)
    slack_views.register(app, rt)
    slack_commands.register(app, rt, people)
    slack_home.register(app, rt, people)
    slack_snooze.register(app, rt, people)

    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], client: WebClient, logger: logging.Logger
    ) -> None:
        if isinstance(error, AirlockError):
            tell(client, body, f":no_entry: {error.detail}")
            return
        logger.exception("Slack listener failed", exc_info=error)
        tell(
            client,
            body,
            ":warning: Airlock hit an unexpected error; nothing was changed. "
            "The owner can find it in the logs.",
        )
