"""Modal submissions: Edit and Reject. Validation errors are shown inside the modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.base.errors import AirlockError
from bot.core import decisions
from bot.core.runtime import Runtime
from bot.slack.blocks_apply import read_declined
from bot.slack.blocks_reject import read_reject
from bot.slack.blocks_views import notice_modal, read_edit_values
from bot.slack.ids import FIELD_BLOCK_PREFIX, View


def register(app: App, rt: Runtime) -> None:
    """View-submission listeners.

    These decide before acking: the answer to a submission is the ack itself, and a refusal or
    a lost race belongs inside the modal, where the person is looking. The work is database-only.
    """

    @app.view(View.EDIT.value)
    def submit_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        item_id, user = view["private_metadata"], body["user"]["id"]

        def decide() -> dict[str, str]:
            item = decisions.authorize(rt, item_id, user, "edited")
            state = view["state"]["values"]
            declined = read_declined(state, [c["field"] for c in item.changes])
            values, errors = read_edit_values(
                state, decisions.editable_fields(item), decisions.edit_limits(rt, item)
            )
            # A declined field is not written: what its input holds does not matter.
            errors = {
                b: e for b, e in errors.items() if b[len(FIELD_BLOCK_PREFIX) :] not in declined
            }
            if not errors:
                kept = {f: v for f, v in values.items() if f not in declined}
                decisions.edit(rt, item_id, user, kept, declined)
            return errors

        _answer(ack, view, decide)

    @app.view(View.REJECT.value)
    def submit_reject(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        item_id, user = view["private_metadata"], body["user"]["id"]

        def decide() -> dict[str, str]:
            category, text, errors = read_reject(view["state"]["values"])
            if not errors and category:
                decisions.reject(rt, item_id, user, category, text)
            return errors

        _answer(ack, view, decide)


def _answer(ack: Ack, view: dict[str, Any], decide: Callable[[], dict[str, str]]) -> None:
    """Ack with the field errors, or a refusal on the first input, or close the modal."""
    try:
        errors = decide()
    except AirlockError as exc:
        first = next((b["block_id"] for b in view["blocks"] if b["type"] == "input"), None)
        if first is None:  # nothing to hang the error on: say it in place of the modal
            ack(response_action="update", view=notice_modal("Not changed", exc.detail))
            return
        errors = {first: exc.detail[:150]}
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()
