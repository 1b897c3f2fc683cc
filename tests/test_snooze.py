"""Not now: Snooze on a card moves the item's timers, re-surfaces it when due, and is recorded."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.base.errors import Conflict
from bot.base.quiet import zone
from bot.core import decisions, snooze
from bot.core.runtime import Runtime
from bot.core.snooze import Snooze, snooze_end
from bot.delivery import timers
from bot.sandbox import slack_payloads
from bot.sandbox.slack_signing import FORM_CONTENT_TYPE, form_body
from bot.service import Service
from bot.slack.blocks import review_card
from bot.slack.delivery import card_for
from bot.slack.ids import Action
from models import Event, Item
from tests import payloads
from tests.slack_driver import SlackDriver, wait_for
from tests.test_lifecycle import get
from tests.test_slack_flow import REP, STRANGER, item, posted, submit
from tests.test_timers import posted_item


def test_snooze_end_in_reviewer_zone() -> None:
    # Saturday 2026-03-07 17:30 in New York; clocks spring forward on Sunday 8 March.
    now = datetime(2026, 3, 7, 22, 30, tzinfo=UTC)
    new_york = "America/New_York"
    assert snooze_end(Snooze.HOUR, now, new_york) == now + timedelta(hours=1)
    assert snooze_end(Snooze.TOMORROW, now, new_york) == datetime(2026, 3, 8, 13, tzinfo=UTC)
    assert snooze_end(Snooze.NEXT_WEEK, now, new_york) == datetime(2026, 3, 9, 13, tzinfo=UTC)
    # Already Sunday morning in Tokyo: tomorrow and next week are both Monday 09:00 there.
    assert snooze_end(Snooze.TOMORROW, now, "Asia/Tokyo") == datetime(2026, 3, 9, 0, tzinfo=UTC)
    assert snooze_end(Snooze.NEXT_WEEK, now, "Asia/Tokyo") == datetime(2026, 3, 9, 0, tzinfo=UTC)
    assert snooze_end(Snooze.TOMORROW, now, "Not/AZone") == datetime(2026, 3, 8, 9, tzinfo=UTC)


def choose(slack: SlackDriver, user: str, value: str, channel: str, ts: str) -> httpx.Response:
    payload = slack_payloads.select_action(user, Action.SNOOZE, value, channel=channel, ts=ts)
    return slack.send(form_body(payload), FORM_CONTENT_TYPE)


def events(rt: Runtime, item_id: str, kind: str) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        rows = session.exec(
            select(Event).where(col(Event.item_id) == item_id, col(Event.type) == kind)
        )
        return [dict(e.data or {}) | {"actor": e.actor} for e in rows]


@pytest.mark.real_time  # a live server's background workers: left out of the shifted-clock run
def test_snooze_moves_timers_and_resurfaces(
    api: httpx.Client, rt: Runtime, slack: SlackDriver, service: Service
) -> None:
    item_id = submit(api, payloads.field_update())
    before = posted(rt, item_id)
    assert before.pending_since is not None and before.card_channel and before.card_ts
    where = (before.card_channel, before.card_ts)
    menu = [
        e
        for b in slack.card(REP, item_id)["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    ]
    assert [
        (m["placeholder"]["text"], [o["text"]["text"] for o in m["options"]]) for m in menu
    ] == [("Snooze", ["1 hour", "Tomorrow morning", "Next week"])]
    # Someone who may not decide the item may not snooze it either.
    assert choose(slack, STRANGER, f"{item_id}|tomorrow", *where).status_code == 200
    wait_for(lambda: events(rt, item_id, "decision_refused"))
    assert item(rt, item_id).snoozed_until is None

    assert choose(slack, REP, f"{item_id}|tomorrow", *where).status_code == 200
    [snoozed] = wait_for(lambda: events(rt, item_id, "snoozed"))
    after = item(rt, item_id)
    until = after.snoozed_until
    assert until is not None and snoozed["until"] == until.isoformat()
    assert (snoozed["by"], snoozed["actor"], snoozed["choice"]) == (REP, f"user:{REP}", "tomorrow")
    tz = service.integrations.people.timezone_of(REP)
    local = until.astimezone(zone(tz))
    assert (local.hour, local.minute) == (9, 0)
    moved = after.pending_since - before.pending_since  # type: ignore[operator]
    assert abs(moved.total_seconds() - snoozed["timers_moved_seconds"]) < 1
    assert after.next_due_at == until
    wait_for(lambda: ":zzz: Snoozed until" in json.dumps(slack.card(REP, item_id)["blocks"]))

    people = service.integrations.people
    # The old reminder time (4 hours after the card) falls inside the snooze: nothing happens.
    asleep = timers.sweep(rt, people, before.pending_since + timedelta(hours=4, seconds=1))
    assert asleep == timers.SweepReport()
    assert timers.sweep(rt, people, until - timedelta(seconds=1)) == timers.SweepReport()
    woke = timers.sweep(rt, people, until)
    assert woke.woken == [item_id] and woke.reminded == []
    wait_for(lambda: any("Snooze over" in m.text for m in slack.slack.messages_for(REP)))
    assert item(rt, item_id).snoozed_until is None
    # The reminder comes 4 hours after the moved start, no sooner.
    assert after.pending_since is not None
    remind_at = after.pending_since + timedelta(hours=4)
    assert timers.sweep(rt, people, remind_at - timedelta(seconds=1)) == timers.SweepReport()
    due = timers.sweep(rt, people, remind_at + timedelta(seconds=1))
    assert due.reminded + due.postponed == [item_id]  # postponed if that is night or weekend there


def test_snooze_expiry_waits_and_refused_when_decided(service: Service, agent_key: str) -> None:
    rt, people = service.rt, service.integrations.people
    item = posted_item(service, agent_key, payloads.field_update())
    assert item.pending_since is not None
    now = rt.clock()
    snoozed = snooze.snooze(rt, item.id, REP, Snooze.NEXT_WEEK, "Pacific/Auckland")
    assert snoozed.snoozed_until == snooze_end(Snooze.NEXT_WEEK, now, "Pacific/Auckland")
    until = snoozed.snoozed_until
    assert until is not None and snoozed.pending_since is not None
    # Even with next_due_at pulled early (a stale claim), nothing fires before the end.
    with rt.db.write() as session:
        session.execute(update(Item).where(col(Item.id) == item.id).values(next_due_at=now))
    old_expiry = item.pending_since + timedelta(hours=72, seconds=1)
    assert timers.sweep(rt, people, min(old_expiry, until - timedelta(seconds=1))) == (
        timers.SweepReport()
    )
    assert get(rt, item.id).status == "pending"
    assert get(rt, item.id).next_due_at == until
    # The expiry moved by the snooze: three days after the moved start, not the old one.
    expiry = snoozed.pending_since + timedelta(hours=72)
    moved = expiry - (item.pending_since + timedelta(hours=72))
    assert abs(moved - (until - now)) < timedelta(seconds=1)  # `now` was read just before
    decisions.approve(rt, item.id, REP)
    with pytest.raises(Conflict, match="only a pending item can be snoozed"):
        snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")


def test_an_item_is_snoozed_three_times_at_most(service: Service, agent_key: str) -> None:
    """Snoozing again and again would keep the item from its manager forever."""
    rt = service.rt
    item = posted_item(service, agent_key, payloads.field_update())
    for _ in range(snooze.MAX_SNOOZES):
        snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")
    kept = get(rt, item.id).snoozed_until
    with pytest.raises(Conflict, match="snoozed 3 times already: decide it now"):
        snooze.snooze(rt, item.id, REP, Snooze.NEXT_WEEK, "UTC")
    assert get(rt, item.id).snoozed_until == kept
    assert len(events(rt, item.id, "snoozed")) == 3


def test_snoozes_at_once_cannot_pass_the_limit(
    service: Service, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four clicks at once on an item snoozed twice: each had read two snoozes before any was
    recorded, yet only one more is accepted (the count is taken in the snooze's transaction)."""
    rt = service.rt
    item = posted_item(service, agent_key, payloads.field_update())
    for _ in range(snooze.MAX_SNOOZES - 1):
        snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")
    together = threading.Barrier(4)
    authorize = snooze.authorize

    def authorize_then_wait(*args: Any) -> Item:
        found = authorize(*args)
        together.wait(timeout=10)  # every click has read the item before any snooze commits
        return found

    monkeypatch.setattr(snooze, "authorize", authorize_then_wait)
    outcomes: list[str] = []

    def click() -> None:
        try:
            snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")
            outcomes.append("snoozed")
        except Conflict as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("snoozed") == 1, outcomes
    assert len(events(rt, item.id, "snoozed")) == snooze.MAX_SNOOZES


def test_the_card_stops_offering_snooze_after_the_last_one(
    service: Service, agent_key: str
) -> None:
    """After the third snooze the menu would only refuse: the card says so instead."""
    rt = service.rt
    item = posted_item(service, agent_key, payloads.field_update())

    def card_actions() -> tuple[list[str], str]:
        blocks, _text = review_card(card_for(rt, get(rt, item.id), "UTC"))
        actions = next(b for b in blocks if b["type"] == "actions")
        return [e["action_id"] for e in actions["elements"]], json.dumps(blocks)

    for _ in range(snooze.MAX_SNOOZES - 1):
        snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")
    assert Action.SNOOZE.value in card_actions()[0]
    snooze.snooze(rt, item.id, REP, Snooze.HOUR, "UTC")
    actions, text = card_actions()
    assert Action.SNOOZE.value not in actions
    assert Action.APPROVE.value in actions
    assert "Snoozed 3 times already: decide it, or it escalates when due" in text
