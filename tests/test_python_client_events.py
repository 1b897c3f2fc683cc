"""The Python client's event side against a running server: the pull feed and webhook checks."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from airlock_client import (
    AirlockClient,
    AirlockError,
    AsyncAirlockClient,
    EventPage,
    InvalidWebhook,
    verify_webhook,
)
from airlock_client import events as client_events

from bot.core.runtime import Runtime
from bot.delivery.webhooks import signed_request
from tests.conftest import LiveServer
from tests.test_event_feed import decide

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def settled(airlock: AirlockClient, count: int) -> EventPage:
    """The whole feed once `count` events show (PostgreSQL serves an event once every writing
    transaction older than it has ended)."""
    deadline = time.monotonic() + 10
    while True:
        page = airlock.events()
        if len(page.events) >= count or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def test_events_follow_every_page_and_resume_from_the_cursor(
    live: LiveServer, rt: Runtime, agent_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_events, "PAGE_LIMIT", 2)  # 5 events: three requests
    decided = decide(rt, agent_key, 5, prefix="client")
    with AirlockClient(live.url, agent_key, trust_env=False) as airlock:
        page = settled(airlock, 5)
        assert [e.data["id"] for e in page.events] == decided
        assert {e.type for e in page.events} == {"item.decided"}
        assert page.events[0].data["status"] == "rejected"
        assert page.next_cursor is not None
        assert airlock.events(after=page.next_cursor).events == []
        scoped = airlock.events(workflow="opp-hygiene")
        assert [e.id for e in scoped.events] == [e.id for e in page.events]
        with pytest.raises(AirlockError) as unknown:
            airlock.events(workflow="nope")
    assert unknown.value.status == 404


def test_async_events_match_the_sync_ones(live: LiveServer, rt: Runtime, agent_key: str) -> None:
    decide(rt, agent_key, 2, prefix="async")
    with AirlockClient(live.url, agent_key, trust_env=False) as airlock:
        expected = settled(airlock, 2)

    async def run() -> EventPage:
        async with AsyncAirlockClient(live.url, agent_key, trust_env=False) as airlock:
            return await airlock.events()

    got = asyncio.run(run())
    assert [e.id for e in got.events] == [e.id for e in expected.events]
    assert got.next_cursor == expected.next_cursor


def test_verify_webhook_returns_the_event_and_refuses_a_bad_signature() -> None:
    body = json.dumps(
        {"type": "item.decided", "timestamp": "2026-11-28T15:00:00Z", "data": {"id": "itm_1"}}
    ).encode()
    headers = signed_request(SECRET, "evt_1", body, time.time())
    event = verify_webhook({k.upper(): v for k, v in headers.items()}, body, SECRET)
    assert (event.id, event.type, event.data) == ("evt_1", "item.decided", {"id": "itm_1"})
    with pytest.raises(InvalidWebhook, match="does not verify"):
        verify_webhook(headers, body.replace(b"itm_1", b"itm_2"), SECRET)
    with pytest.raises(InvalidWebhook, match="does not verify"):
        verify_webhook(headers, body, "whsec_" + "A" * 32)
    stale = signed_request(SECRET, "evt_1", body, time.time() - 3600)
    with pytest.raises(InvalidWebhook, match="does not verify"):
        verify_webhook(stale, body, SECRET)
    with pytest.raises(InvalidWebhook, match="cannot verify"):
        verify_webhook(signed_request(SECRET, "evt_3", b"{", time.time()), b"{", SECRET)
    other = b'{"hello": "world"}'
    with pytest.raises(InvalidWebhook, match="not an Airlock event"):
        verify_webhook(signed_request(SECRET, "evt_2", other, time.time()), other, SECRET)
