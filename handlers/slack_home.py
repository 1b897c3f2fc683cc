"""App Home: published when opened and after Home actions."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.core import control, scoped_pause
from bot.core.runtime import Runtime
from bot.reporting import queries
from bot.slack.blocks_home import home_view
from bot.slack.blocks_scope import scope_blocks
from bot.slack.delivery import ReviewerSource


def publish_home(rt: Runtime, client: WebClient, people: ReviewerSource, user: str) -> None:
    """Render and publish one person's Home tab."""
    tz = people.timezone_of(user)
    workflows = [(s, control.is_owner(rt, s.id, user)) for s in queries.workflow_states(rt)]
    scopes = scope_blocks(scoped_pause.pressed(rt), tz)
    mine, team = queries.my_queue(rt, user), queries.team_queue(rt, user)
    view = home_view(mine, team, workflows, tz, scopes)
    client.views_publish(user_id=user, view=view)


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """Event listeners."""

    @app.event("app_home_opened")
    def opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(rt, client, people, event["user"])
