"""Helpers for the card delivery tests: a Slack stand-in, a card route on it, pending items."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import col, select

from bot.core.effects import CARD
from bot.core.intake import submit
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import Runtime
from bot.salesforce.directory import Reviewer
from bot.sandbox.slack_standin import SlackStandin
from bot.slack.client import make_client
from bot.slack.delivery import CardRoute
from models import Item, Outbox
from tests import payloads

REVIEWER = "U0MAYA"
TOKEN = "xoxb-airlock-tests"


@dataclass
class FixedReviewer:
    """Every item goes to one reviewer in UTC (the directory is tested elsewhere)."""

    user: str = REVIEWER

    def reviewer_for(self, item: Item, owner: str) -> Reviewer:
        """The fixed reviewer."""
        return Reviewer(self.user, source="assignee")

    def timezone_of(self, slack_user_id: str, *, cached_only: bool = False) -> str:
        """Everyone is in UTC."""
        return "UTC"

    def resolve_owner(self, owner: str) -> str:
        """Owners are written as Slack ids here."""
        return owner


def card_worker(
    rt: Runtime, slack: SlackStandin, *, timeout: int = 4, lease: float = 5.0, worker_id: str = "w"
) -> OutboxWorker:
    """An outbox worker for review cards only, on the stand-in, with no backoff."""
    client = make_client(TOKEN, slack.base_url, timeout=timeout)
    route = CardRoute(rt, client, FixedReviewer()).route()
    return OutboxWorker(
        rt.db,
        {CARD: route},
        worker_id=worker_id,
        lease=timedelta(seconds=lease),
        backoff_base=0.0,
        on_give_up=GiveUp(rt),
    )


def pending_items(rt: Runtime, agent_key: str, count: int, prefix: str = "card") -> list[str]:
    """`count` field updates waiting for review: each has a card row queued."""
    ids = []
    for n in range(count):
        body = payloads.field_update(
            assignee=REVIEWER, idempotency_key=f"{prefix}-{n}", title=f"Card test {n}"
        )
        result = submit(rt, token=agent_key, raw=json.dumps(body).encode(), header_key=None)
        ids.append(str(result.body["id"]))
    return ids


def cards_per_item(slack: SlackStandin, item_ids: list[str]) -> dict[str, int]:
    """How many review cards Slack holds for each item (its buttons carry the item id)."""
    counts = dict.fromkeys(item_ids, 0)
    for message in slack.messages.values():
        if message.ephemeral_user is not None or not message.blocks:
            continue
        actions = [b for b in message.blocks if b.get("type") == "actions"]
        values = {e.get("value") for b in actions for e in b.get("elements", [])}
        for item_id in item_ids:
            counts[item_id] += item_id in values
    return counts


def card_rows(rt: Runtime) -> list[Outbox]:
    """Every first-post card row."""
    with rt.db.read() as session:
        query = select(Outbox).where(col(Outbox.kind) == CARD, col(Outbox.payload) != None)  # noqa: E711
        return [row for row in session.exec(query) if not row.payload.get("update")]


def waiting_cards(rt: Runtime) -> int:
    """Card rows not yet settled."""
    with rt.db.read() as session:
        query = select(Outbox.id).where(col(Outbox.kind) == CARD, col(Outbox.status) == "pending")
        return len(session.exec(query).all())


def deliver_cards(rt: Runtime, worker: OutboxWorker, timeout: float = 30.0) -> None:
    """Run the worker until no card row is pending (waits included), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while waiting_cards(rt):
        assert time.monotonic() < deadline, f"{waiting_cards(rt)} cards still pending"
        if not worker.run_once():
            time.sleep(0.02)
