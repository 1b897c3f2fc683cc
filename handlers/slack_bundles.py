"""Bundle message buttons: a row's Approve, and Approve all (Edit and Reject are the card's)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import bundles, decisions
from bot.core.runtime import Runtime
from bot.slack.ids import Action
from handlers.slack_reply import refusals_as_messages, tell, user_of, work_turn


def register(app: App, rt: Runtime) -> None:
    """Button listeners of bundle messages."""

    @app.action(Action.BUNDLE_APPROVE.value)
    @refusals_as_messages
    def approve_row(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        with work_turn():
            decisions.approve(rt, action["value"], user_of(body), via=bundles.VIA)

    @app.action(Action.APPROVE_ALL.value)
    @refusals_as_messages
    def approve_all(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        # Slack asked the person to confirm before sending this (the button's confirm dialog).
        ack()
        with work_turn():
            result = bundles.approve_all(rt, action["value"], user_of(body))
        if result.left:
            tell(client, body, result.summary())
