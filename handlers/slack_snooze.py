"""The card's Snooze menu: ack, snooze in the reviewer's time zone, say until when."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import snooze
from bot.core.runtime import Runtime
from bot.slack.blocks import local_time
from bot.slack.blocks_snooze import read_snooze
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import Action
from handlers.slack_reply import refusals_as_messages, tell, user_of, work_turn


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """The Snooze listener."""

    @app.action(Action.SNOOZE.value)
    @refusals_as_messages
    def snooze_item(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        item_id, choice = read_snooze(action["selected_option"]["value"])
        user = user_of(body)
        tz = people.timezone_of(user)  # users.info tz, as quiet hours use it
        with work_turn():
            item = snooze.snooze(rt, item_id, user, choice, tz)
        assert item.snoozed_until is not None
        until = local_time(item.snoozed_until, tz)
        tell(client, body, f":zzz: Snoozed until {until}; Airlock reminds you then. `{item_id}`")
