"""`/airlock delegate` over signed Slack requests: items, cards and escalations follow a
delegation, both people may decide, and it ends by itself (issue 17).

Every moment comes from the runtime's injected clock: no real dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core import decisions, delegation
from bot.core.trace import item_view, render_trace
from bot.delivery import timers
from bot.service import Service
from bot.slack.ids import Action
from models import Delegation, Item
from tests import payloads
from tests.conftest import LiveServer
from tests.slack_driver import SlackDriver, wait_for
from tests.test_lifecycle import get
from tests.test_pause_timers import at
from tests.test_timers import dms, later, posted_item
from tests.writeback_support import post

MAYA, LEO, SAM, NINA = "U0MAYA", "U0LEO", "U0SAM", "U0NINA"
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def slack(live: LiveServer, service: Service) -> Iterator[SlackDriver]:
    driver = SlackDriver(live.url, service)
    yield driver
    driver.http.close()


def item(service: Service, item_id: str) -> Item:
    return get(service.rt, item_id)


def delivered(service: Service, item_id: str, to: str) -> Item:
    """The item once its card reached `to` (the ticker or this drain delivers it)."""

    def check() -> Item | None:
        service.worker.drain()
        now = item(service, item_id)
        return now if now.assignee == to and now.card_ts else None

    found: Item = wait_for(check)
    return found


def ended_notices(slack: SlackDriver, person: str) -> list[str]:
    return [m.text for m in slack.slack.messages_for(person) if "ended by itself" in m.text]


def test_delegate_with_expiry_moves_items_and_ends_by_itself(
    service: Service, slack: SlackDriver, agent_key: str
) -> None:
    at(service, TUESDAY)
    before = post(service.rt, agent_key, payloads.field_update(idempotency_key="before"))
    old_card = delivered(service, before, MAYA)

    answer = slack.said(MAYA, f"delegate <@{LEO}|leo> until 2026-11-26")

    assert answer["response_type"] == "ephemeral"
    assert f"go to <@{LEO}>, who may decide them" in answer["text"]
    assert "1 pending item(s) moved" in answer["text"]
    moved = delivered(service, before, LEO)
    assert moved.delegator == MAYA
    # Maya's old card says where the item went; Leo got a card of his own.
    retired = wait_for(lambda: "Delegated" in slack.card(MAYA, before)["text"] or None)
    assert retired and slack.card(MAYA, before)["ts"] == old_card.card_ts
    during = post(service.rt, agent_key, payloads.field_update(idempotency_key="during"))
    assert delivered(service, during, LEO).delegator == MAYA

    # The delegate decides for Maya; Maya keeps the right to decide her own items.
    card = slack.card(LEO, during)
    slack.click(LEO, Action.APPROVE, during, channel=card["channel"], ts=card["ts"])
    decided = wait_for(lambda: (i := item(service, during)).status == "approved" and i)
    assert (decided.decided_by, (decided.decision or {}).get("for")) == (LEO, MAYA)
    with service.rt.db.read() as session:
        assert f"decided by {LEO} for {MAYA}" in render_trace(item_view(session, during))
    card = slack.card(LEO, before)
    slack.click(MAYA, Action.APPROVE, before, channel=card["channel"], ts=card["ts"])
    mine = wait_for(lambda: (i := item(service, before)).status == "approved" and i)
    assert (mine.decided_by, (mine.decision or {}).get("for")) == (MAYA, None)

    # The end of Thursday 26 Nov in Maya's zone (New York): 05:00 UTC on Friday.
    ends = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    at(service, ends - timedelta(seconds=1))
    service.tick()
    assert delegation.current(service.rt, MAYA) is not None
    at(service, ends)
    service.tick()
    with service.rt.db.read() as session:
        assert session.exec(select(Delegation)).all() == []
    for person in (MAYA, LEO):
        told = wait_for(partial(ended_notices, slack, person))
        assert f"new items go to <@{MAYA}> again" in told[-1]
    after = post(service.rt, agent_key, payloads.field_update(idempotency_key="after"))
    assert delivered(service, after, MAYA).delegator is None


BAD_DELEGATIONS = [
    ("delegate leo", "name the person as a mention"),
    (f"delegate <@{MAYA}>", "you cannot delegate to yourself"),
    (f"delegate <@{LEO}> until 2026-11-23", "is in the past"),
    (f"delegate <@{LEO}> until 2027-06-01", "at most 90 days"),
    (f"delegate <@{LEO}> until tomorrow", "write the last day as YYYY-MM-DD"),
    ("delegate off", "you have no delegation to turn off"),
]


def test_delegate_refuses_bad_input(service: Service, slack: SlackDriver) -> None:
    at(service, TUESDAY)
    for text, error in BAD_DELEGATIONS:  # one live server for all: each case is a request
        answer = slack.said(MAYA, text)
        assert error in answer["text"], text
        assert delegation.current(service.rt, MAYA) is None


def test_delegations_do_not_chain_or_loop(service: Service, slack: SlackDriver) -> None:
    at(service, TUESDAY)
    slack.said(MAYA, f"delegate <@{LEO}>")
    refused = slack.said(LEO, f"delegate <@{MAYA}>")
    assert f"<@{MAYA}> is away too" in refused["text"]
    assert delegation.current(service.rt, LEO) is None
    # Without `until`: 7 days, to the end of that day in Maya's zone.
    tz = service.integrations.people.timezone_of(MAYA, cached_only=True)
    current = delegation.current(service.rt, MAYA)
    assert current is not None
    assert current.until == datetime(2026, 12, 2, tzinfo=ZoneInfo(tz))  # Tue 24 + 7, whole day
    off = slack.said(MAYA, "delegate off")
    assert f"Delegation to <@{LEO}> is off" in off["text"]
    assert delegation.current(service.rt, MAYA) is None


def test_escalation_follows_the_managers_delegation(service: Service, agent_key: str) -> None:
    at(service, TUESDAY)
    posted = posted_item(service, agent_key, payloads.field_update())
    assert posted.manager == SAM
    delegation.start(service.rt, SAM, NINA, TUESDAY + timedelta(days=3))
    people = service.integrations.people
    timers.sweep(service.rt, people, later(posted, 4))
    assert timers.sweep(service.rt, people, later(posted, 24)).escalated == [posted.id]
    service.worker.drain()

    escalated = item(service, posted.id)
    assert (escalated.escalated, escalated.manager) == (True, NINA)
    assert any("Escalated to you" in t for t in dms(service, NINA) if posted.id in t)
    assert not [t for t in dms(service, SAM) if posted.id in t]
    assert decisions.approve(service.rt, posted.id, NINA).status == "approved"
