"""Card and Home buttons: Approve, Edit, Reject, Pause, Resume. Ack first, then the runtime."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import control, decisions
from bot.core.runtime import Runtime
from bot.slack.blocks_reject import reject_modal
from bot.slack.blocks_views import edit_modal
from bot.slack.card_facts import labels_for
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import Action
from handlers.slack_home import publish_home
from handlers.slack_reply import refusals_as_messages, user_of, work_turn


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """Button listeners."""
    _register_decisions(app, rt, people)
    _register_controls(app, rt, people)


def _register_decisions(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """Approve at once; Edit and Reject open their modal (the decision comes on submit)."""

    @app.action(Action.APPROVE.value)
    @refusals_as_messages
    def approve(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        with work_turn():
            decisions.approve(rt, action["value"], user_of(body))
        if body.get("view", {}).get("type") == "home":
            publish_home(rt, client, people, user_of(body))

    @app.action(Action.EDIT.value)
    @refusals_as_messages
    def edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        item = decisions.authorize(rt, action["value"], user_of(body), "edited")
        fields = decisions.editable_fields(item)
        choices = decisions.edit_choices(rt, item)
        # labels from the describe cache only: nothing here waits on Salesforce
        labels = labels_for(item, rt.fields)
        changes = [c["field"] for c in item.changes]
        view = edit_modal(item.id, item.title, fields, choices, labels, changes)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(Action.REJECT.value)
    @refusals_as_messages
    def reject(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        item = decisions.authorize(rt, action["value"], user_of(body), "rejected")
        client.views_open(trigger_id=body["trigger_id"], view=reject_modal(item.id, item.title))


def _register_controls(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """Pause and Resume a workflow from App Home: no turn to wait for (handlers.slack_reply.
    work_turn), so the stop button does not queue behind a burst of decisions."""

    @app.action(Action.PAUSE.value)
    @refusals_as_messages
    def pause(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        control.pause(rt, action["value"], user_of(body), "paused from App Home")
        publish_home(rt, client, people, user_of(body))

    @app.action(Action.RESUME.value)
    @refusals_as_messages
    def resume(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        control.resume(rt, action["value"], user_of(body))
        publish_home(rt, client, people, user_of(body))
