"""Long-poll on GET /api/v1/items/{id}?wait=: early on change, bounded per key, same scope."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.core import decisions, keys
from bot.core.runtime import Runtime
from bot.core.waiting import wait_for_change
from bot.service import Service
from tests import payloads
from tests.conftest import LiveServer

pytestmark = pytest.mark.real_time


def submit_summary(api: httpx.Client) -> str:
    response = api.post("/api/v1/items", json=payloads.summary())
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return str(response.json()["id"])


@pytest.fixture
def later() -> Iterator[Callable[[float, Callable[[], object]], None]]:
    """Run a function in another thread after a delay; joined at the end of the test."""
    threads: list[threading.Thread] = []

    def run(delay: float, fn: Callable[[], object]) -> None:
        def go() -> None:
            time.sleep(delay)
            fn()

        thread = threading.Thread(target=go)
        thread.start()
        threads.append(thread)

    yield run
    for thread in threads:
        thread.join(10)


def test_wait_answers_early_when_decided_elsewhere(
    api: httpx.Client, rt: Runtime, later: Callable[[float, Callable[[], object]], None]
) -> None:
    item_id = submit_summary(api)
    later(0.5, lambda: decisions.reject(rt, item_id, "U0ADMIN", "inaccurate", "wrong account"))
    started = time.monotonic()
    response = api.get(f"/api/v1/items/{item_id}", params={"wait": 20}, timeout=30)
    took = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["decision"]["reason"] == "inaccurate"
    assert 0.4 < took < 5, took


def test_wait_answers_unchanged_after_the_wait(api: httpx.Client) -> None:
    item_id = submit_summary(api)
    started = time.monotonic()
    response = api.get(f"/api/v1/items/{item_id}", params={"wait": 1.2})
    took = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert 1.1 < took < 5, took


@pytest.mark.parametrize("wait", ["-1", "61", "soon", "nan", "inf"])
def test_wait_refuses_a_bad_wait(api: httpx.Client, wait: str) -> None:
    item_id = submit_summary(api)
    response = api.get(f"/api/v1/items/{item_id}", params={"wait": wait})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "query.wait"


def test_wait_bounded_per_key(
    api: httpx.Client,
    rt: Runtime,
    live: LiveServer,
    agent_key: str,
    later: Callable[[float, Callable[[], object]], None],
) -> None:
    rt.waits.per_key = 1
    item_id = submit_summary(api)
    key_id = agent_key.split("_")[1]
    answers: list[httpx.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(api.get(f"/api/v1/items/{item_id}", params={"wait": 20}))
    )
    first.start()
    deadline = time.monotonic() + 5
    while rt.waits.open_waits(key_id) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    refused = api.get(f"/api/v1/items/{item_id}", params={"wait": 5})
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert "waits open" in refused.json()["detail"]
    # Another key is not held back by this one, and a plain read never counts.
    with rt.db.write() as session:
        _row, other = keys.create_key(session, agent="other", workflows=["*"])
    headers = {"Authorization": f"Bearer {other}"}
    url = f"{live.url}/api/v1/items/{item_id}"
    assert httpx.get(url, params={"wait": 0.1}, headers=headers).status_code == 200
    assert api.get(f"/api/v1/items/{item_id}").status_code == 200
    decisions.reject(rt, item_id, "U0ADMIN", "inaccurate")
    first.join(10)
    assert answers[0].json()["status"] == "rejected"
    assert rt.waits.open_waits(key_id) == 0


def test_wait_out_of_scope_is_not_found(api: httpx.Client, rt: Runtime, live: LiveServer) -> None:
    item_id = submit_summary(api)  # call-summary workflow
    with rt.db.write() as session:
        _row, briefer = keys.create_key(session, agent="briefer", workflows=["account-brief"])
    response = httpx.get(
        f"{live.url}/api/v1/items/{item_id}",
        params={"wait": 5},
        headers={"Authorization": f"Bearer {briefer}"},
    )
    assert response.status_code == 404
    assert (
        response.json()["detail"]
        == f"item {item_id!r} does not exist: check the id returned at intake"
    )
    missing = api.get("/api/v1/items/itm_nothing", params={"wait": 5})
    assert missing.status_code == 404


def test_wait_for_change_backs_off() -> None:
    reads: list[float] = []
    clock = [0.0]

    def read() -> tuple[str, str]:
        reads.append(clock[0])
        return ("pending", "none")

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def run() -> None:
        seen = ("pending", "none")
        await wait_for_change(read, seen, 30, monotonic=lambda: clock[0], sleep=sleep)

    asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    assert max(gaps) == pytest.approx(1.0)  # never slower than once a second
    assert len(reads) < 45  # 30 s of waiting costs a few dozen reads, not a busy loop
    assert reads[-1] == pytest.approx(30.0)


def test_wait_answers_when_the_write_lands(
    api: httpx.Client, rt: Runtime, service: Service
) -> None:
    """An approved item's wait wakes on its write-back state too: an agent waiting for the
    record to be updated hears `written` as soon as Salesforce took it."""
    posted = api.post("/api/v1/items", json=payloads.field_update(assignee="U0MAYA"))
    assert posted.status_code == 201, posted.text
    item_id = posted.json()["id"]
    salesforce = service.integrations.sandbox.salesforce
    assert salesforce is not None
    salesforce.set_delay("composite", 1.5)  # the write lands a while after the approval
    decisions.approve(rt, item_id, "U0ADMIN")
    started = time.monotonic()
    response = api.get(f"/api/v1/items/{item_id}", params={"wait": 20}, timeout=30)
    took = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["writeback_state"]) == (
        "approved",
        "written",
    )
    assert 1.0 < took < 10, took
