"""The outbox route that DMs notices: reminders, blocked items, pauses (with Resume)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient

from bot.core.outbox import Outcome, Route
from bot.core.runtime import Runtime
from bot.slack.blocks import esc, resume_prompt
from bot.slack.delivery import dm_target
from bot.slack.errors import slack_failure
from models import Item, Outbox

log = logging.getLogger(__name__)


def notice_text(rt: Runtime, row: Outbox) -> str:
    """The words of a `slack.notify` DM."""
    payload: dict[str, Any] = row.payload
    if payload.get("text"):
        return str(payload["text"])
    with rt.db.read() as session:
        item = session.get(Item, row.item_id) if row.item_id else None
    if item is not None and payload.get("reason") == "reminder":
        where = "its row of the bundle message" if item.bundle_id else "the card"
        return (
            f":bell: Reminder: *{esc(item.title)}* from `{item.workflow_id}` is waiting for your "
            f"decision (Approve, Edit or Reject on {where}). `{item.id}`"
        )
    if item is not None and payload.get("reason") == "blocked":
        why = esc("; ".join(item.gate_reasons[1:]) or "policy")
        return (
            f":no_entry: Blocked *{esc(item.title)}* from `{item.workflow_id}` "
            f"(agent `{esc(item.agent)}`): {why}. `/airlock trace {item.id}`"
        )
    return f"Airlock notice about {row.item_id or row.workflow_id}"


def notice_blocks(rt: Runtime, row: Outbox) -> list[dict[str, Any]] | None:
    """Buttons that belong with a notice: Resume when a workflow was paused."""
    if row.payload.get("reason") not in ("auto_pause", "paused"):
        return None
    return resume_prompt(notice_text(rt, row), row.payload["workflow"])


def notify_route(rt: Runtime, client: WebClient) -> Route:
    """Delivers `slack.notify` rows as DMs."""

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        outcomes = {}
        for row in rows:
            # Caught per row: a DM already sent in this batch is never sent again for another's
            # failure.
            try:
                client.chat_postMessage(
                    channel=dm_target(client, row.payload["to"]),
                    text=notice_text(rt, row),
                    blocks=notice_blocks(rt, row),
                )
                outcomes[row.id or 0] = Outcome.done(f"told {row.payload['to']}")
            except Exception as exc:
                log.exception("notice %s failed", row.id)
                outcomes[row.id or 0] = slack_failure(exc)
        return outcomes

    return Route(deliver, batch_size=20)
