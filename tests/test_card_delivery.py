"""Review cards are posted exactly once: ambiguous Slack failures and crashes between the post
and storing its ts are reconciled from the DM's history (message metadata names the item)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.effects import CARD, NOTIFY
from bot.core.outbox import OutboxWorker, enqueue
from bot.core.runtime import Runtime
from bot.sandbox.boot import seed_slack_users
from bot.sandbox.slack_standin import SlackStandin
from bot.slack.client import make_client
from bot.slack.delivery import CardRoute
from bot.slack.notices import notify_route
from models import Event, Item, Outbox
from tests.card_support import (
    REVIEWER,
    TOKEN,
    FixedReviewer,
    card_rows,
    card_worker,
    cards_per_item,
    deliver_cards,
    pending_items,
)


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    with SlackStandin(users=seed_slack_users()) as running:
        yield running


def item(rt: Runtime, item_id: str) -> Item:
    with rt.db.read() as session:
        found = session.get(Item, item_id)
    assert found is not None
    return found


def events(rt: Runtime, item_id: str) -> list[str]:
    with rt.db.read() as session:
        query = select(Event.type).where(col(Event.item_id) == item_id).order_by(col(Event.seq))
        return list(session.exec(query))


def test_post_card_once_when_answer_lost(rt: Runtime, agent_key: str, slack: SlackStandin) -> None:
    [item_id] = pending_items(rt, agent_key, 1)
    slack.lose_answer("chat.postMessage", times=1)  # posted, but Airlock hears fatal_error
    deliver_cards(rt, card_worker(rt, slack))
    assert cards_per_item(slack, [item_id]) == {item_id: 1}
    [posted] = list(slack.messages.values())
    assert item(rt, item_id).card_ts == posted.ts
    assert posted.metadata == {
        "event_type": "airlock_card",
        "event_payload": {"item_id": item_id, "step": "card"},
    }
    assert "card_adopted" in events(rt, item_id)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_post_card_once_when_post_times_out(
    rt: Runtime, agent_key: str, slack: SlackStandin
) -> None:
    [item_id] = pending_items(rt, agent_key, 1)
    slack.lose_answer("chat.postMessage", times=1, hang=1.5)  # applied; the answer is too late
    deliver_cards(rt, card_worker(rt, slack, timeout=1))
    assert cards_per_item(slack, [item_id]) == {item_id: 1}
    assert item(rt, item_id).card_ts is not None


class Killed(BaseException):
    """The process dies: nothing after it runs, no outcome is recorded."""


class DiesAfterPosting:
    """A Slack client whose process dies right after Slack accepted a post."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def chat_postMessage(self, **kwargs: Any) -> Any:
        self.client.chat_postMessage(**kwargs)
        raise Killed


def test_post_card_once_after_crash_before_ts_stored(
    rt: Runtime, agent_key: str, slack: SlackStandin
) -> None:
    [item_id] = pending_items(rt, agent_key, 1)
    client = DiesAfterPosting(make_client(TOKEN, slack.base_url))
    route = CardRoute(rt, client, FixedReviewer()).route()  # type: ignore[arg-type]
    dying = OutboxWorker(rt.db, {CARD: route}, worker_id="dying", lease=timedelta(seconds=0.2))
    with pytest.raises(Killed):
        dying.run_once()
    assert item(rt, item_id).card_ts is None  # the worst moment: posted, not recorded
    time.sleep(0.25)
    deliver_cards(rt, card_worker(rt, slack, worker_id="next"))
    assert cards_per_item(slack, [item_id]) == {item_id: 1}
    assert "card_adopted" in events(rt, item_id)
    assert [row.status for row in card_rows(rt)] == ["done"]


def test_give_up_card_slack_refuses_and_tell_owner_once(
    rt: Runtime, agent_key: str, slack: SlackStandin
) -> None:
    [item_id] = pending_items(rt, agent_key, 1)
    slack.fail_next("chat.postMessage", status=200, error="msg_blocks_too_long")
    worker = card_worker(rt, slack)
    worker.drain()
    [row] = card_rows(rt)
    assert (row.status, row.attempts) == ("dead", 1)
    assert "delivery_failed" in events(rt, item_id)
    with rt.db.read() as session:
        told = session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()
    assert [n.payload["to"] for n in told] == ["U0OLIVIA"]  # the workflow's owner
    assert "msg_blocks_too_long" in told[0].payload["text"]
    worker.drain()
    with rt.db.read() as session:
        assert len(session.exec(select(Outbox).where(col(Outbox.kind) == NOTIFY)).all()) == 1


def test_send_each_notice_once_when_one_in_batch_fails(rt: Runtime, slack: SlackStandin) -> None:
    with rt.db.write() as session:
        for n in range(5):
            payload = {"to": REVIEWER, "text": f"notice {n}"}
            if n == 2:
                payload = {"text": "nobody to send it to"}  # a poison row: no recipient
            enqueue(session, kind=NOTIFY, dedupe_key=f"n{n}", payload=payload)
    client = make_client(TOKEN, slack.base_url)
    worker = OutboxWorker(rt.db, {NOTIFY: notify_route(rt, client)}, backoff_base=0.0)
    worker.run_once()
    worker.run_once()
    texts = sorted(m.text for m in slack.messages_for(REVIEWER))
    assert texts == ["notice 0", "notice 1", "notice 3", "notice 4"]
    with rt.db.read() as session:
        statuses = {r.dedupe_key: r.status for r in session.exec(select(Outbox))}
    assert statuses == {"n0": "done", "n1": "done", "n2": "pending", "n3": "done", "n4": "done"}
