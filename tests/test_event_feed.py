"""GET /api/v1/events: the same events the webhooks carry, paged, and only the key's own."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.core import decisions, keys, lifecycle
from bot.core.runtime import Runtime
from models import AgentEvent
from tests import payloads
from tests.test_intake_api import assert_problem
from tests.test_lifecycle import post


def decide(rt: Runtime, agent_key: str, count: int, prefix: str = "feed") -> list[str]:
    """Submit and reject `count` opp-hygiene items: one item.decided each, and nothing after it
    (an approval would also queue a write-back, whose `item.written` the live service's workers
    publish at a time of their own)."""
    found = []
    for n in range(count):
        item_id = post(rt, agent_key, payloads.field_update(idempotency_key=f"{prefix}{n}"))
        decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
        found.append(item_id)
    return found


def visible(api: httpx.Client, count: int, **params: Any) -> dict[str, Any]:
    """The feed page once `count` events show (PostgreSQL serves an event once every writing
    transaction older than it has ended, including other databases' on a shared server)."""
    deadline = time.monotonic() + 10
    while True:
        body: dict[str, Any] = api.get("/api/v1/events", params=params).json()
        if len(body["events"]) >= count or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def read_all(api: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of the feed, following `next_cursor` until `has_more` is false."""
    pages, after = [], None
    while True:
        answer = api.get("/api/v1/events", params=params | ({"after": after} if after else {}))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["events"])
        after = body["next_cursor"]
        if not body["has_more"]:
            return pages


def test_feed_pages_the_stored_events_in_order(
    rt: Runtime, agent_key: str, api: httpx.Client
) -> None:
    items = decide(rt, agent_key, 5)
    visible(api, 5)
    pages = read_all(api, workflow="opp-hygiene", limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    events = [e for page in pages for e in page]
    assert [e["data"]["id"] for e in events] == items
    with rt.db.read() as session:
        stored = session.exec(select(AgentEvent).order_by(col(AgentEvent.id))).all()
    # the very bodies the webhooks sign, with the `webhook-id` as `id`
    assert events == [{"id": s.event_id, **s.body} for s in stored]
    assert {e["type"] for e in events} == {"item.decided"}


def test_feed_resumes_from_cursor_and_waits_with_it(
    rt: Runtime, agent_key: str, api: httpx.Client
) -> None:
    decide(rt, agent_key, 2)
    first = visible(api, 2)
    assert (len(first["events"]), first["has_more"]) == (2, False)
    idle = api.get("/api/v1/events", params={"after": first["next_cursor"]}).json()
    assert idle == {"events": [], "next_cursor": first["next_cursor"], "has_more": False}
    post(rt, agent_key, payloads.field_update(idempotency_key="later"))  # pending: no event
    [later] = decide(rt, agent_key, 1, prefix="later")
    fresh = visible(api, 1, after=first["next_cursor"])
    assert [e["data"]["id"] for e in fresh["events"]] == [later]


def test_feed_shows_a_key_only_its_workflows(
    rt: Runtime, agent_key: str, api: httpx.Client
) -> None:
    decide(rt, agent_key, 1)
    with rt.db.write() as session:
        _row, other = keys.create_key(session, agent="brief-bot", workflows=["account-brief"])
    headers = {"Authorization": f"Bearer {other}"}
    visible(api, 1)
    assert api.get("/api/v1/events", headers=headers).json()["events"] == []
    refused = api.get("/api/v1/events", params={"workflow": "opp-hygiene"}, headers=headers)
    assert_problem(refused, 403, "not scoped to workflow 'opp-hygiene'")
    assert len(visible(api, 1)["events"]) == 1  # the `*` key sees it
    assert_problem(api.get("/api/v1/events", params={"workflow": "nope"}), 404, "unknown workflow")
    assert_problem(httpx.get(f"{api.base_url}/api/v1/events"), 401, "")


def test_feed_refuses_a_cursor_it_did_not_hand_out(api: httpx.Client) -> None:
    for bad in ("not-a-cursor", "ZXYxOmFiYw", "ZXYxOjEy", "%%%"):
        answer = api.get("/api/v1/events", params={"after": bad})
        assert_problem(answer, 422, "is not one this feed returned")
    assert api.get("/api/v1/events", params={"limit": 0}).status_code == 422


def test_feed_never_skips_an_event_committed_after_a_later_one(
    rt: Runtime, agent_key: str, api: httpx.Client
) -> None:
    """An earlier-numbered event committing last is still served, in order, once committed."""
    if rt.db.is_sqlite:
        pytest.skip("SQLite commits one writer at a time: ids are in commit order")
    with rt.db.write() as slow:
        lifecycle.set_paused(slow, "opp-hygiene", paused=True, actor="user:U0OLIVIA")
        with rt.db.write() as fast:
            lifecycle.set_paused(fast, "account-brief", paused=True, actor="user:U0OLIVIA")
        early = api.get("/api/v1/events").json()
        assert early["events"] == []  # the later event waits for the earlier transaction
    after = visible(api, 2)
    assert [e["data"]["workflow"] for e in after["events"]] == ["opp-hygiene", "account-brief"]
