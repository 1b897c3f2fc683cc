"""Sync and async clients for Airlock's agent API (`/api/v1`).

Both build requests and read answers with the same helpers; only the I/O differs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from typing import Any

import httpx

from airlock_client.errors import AirlockError
from airlock_client.events import Event, EventPage, page_params, read_page
from airlock_client.models import Item

MAX_POLL = 60.0  # the server's cap on ?wait=
_RETRIES = 3  # for a lost connection or a 5xx: the idempotency key makes a resend safe


def _http_options(
    base_url: str, api_key: str | None, timeout: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """The httpx client settings: base URL, the key as Bearer, timeout, and the caller's extras."""
    key = api_key or os.environ.get("AIRLOCK_AGENT_KEY")
    if not key:
        raise ValueError("no agent key: pass api_key=... or set AIRLOCK_AGENT_KEY")
    headers = {"Authorization": f"Bearer {key}", "User-Agent": "airlock-client-python/0.1"}
    return {"base_url": base_url.rstrip("/"), "headers": headers, "timeout": timeout, **extra}


def _submission(
    workflow: str, kind: str, title: str, idempotency_key: str | None, fields: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers of one submission, with a fresh idempotency key unless given."""
    body = {"workflow": workflow, "kind": kind, "title": title, **fields}
    return body, {"Idempotency-Key": idempotency_key or f"py-{uuid.uuid4().hex}"}


def _read(response: httpx.Response) -> Item:
    if response.status_code >= 400:
        raise AirlockError.from_response(response)
    replayed = response.headers.get("idempotent-replayed") == "true"
    return Item.from_json(response.json(), replayed=replayed)


def _retry_pause(error: Exception, attempt: int) -> float:
    """How long to wait before resending a submission; re-raises what a resend cannot fix."""
    transient = isinstance(error, httpx.TransportError) or (
        isinstance(error, AirlockError) and (error.status >= 500 or error.status == 429)
    )
    if attempt >= _RETRIES or not transient:
        raise error
    return _pause(error, attempt)


def _pause(error: Exception, attempt: int) -> float:
    hinted = error.retry_after if isinstance(error, AirlockError) else None
    return min(hinted if hinted is not None else 0.5 * 2**attempt, MAX_POLL)


def _poll(deadline: float, asked: bool) -> dict[str, str]:
    """The first look answers at once (the item may be decided already: a long-poll would wait
    for the next change); later ones long-poll for what is left of the timeout."""
    left = deadline - time.monotonic() if asked else 0.0
    return {"wait": f"{min(max(left, 0.0), MAX_POLL):.3f}"}


def _wait_step(response: httpx.Response, deadline: float) -> tuple[Item | None, float]:
    """After one long-poll: (the item, 0) when done, else (None, seconds to pause first)."""
    left = deadline - time.monotonic()
    if response.status_code == 429 and left > 0:  # this key's waits are all in use
        return None, min(_pause(AirlockError.from_response(response), 0), left)
    item = _read(response)
    return (item, 0.0) if item.decided or left <= 0 else (None, 0.0)


def _after_failure(error: Exception, failures: int, deadline: float) -> float:
    """A wait's answer lost on the way or a 5xx: the pause before asking again. Re-raises what
    asking again cannot fix, once the retries are spent, or when the wait is over."""
    pause = _retry_pause(error, failures)
    left = deadline - time.monotonic()
    if left <= 0:
        raise error
    return min(pause, left)


class AirlockClient:
    """Talks to one Airlock server as one agent key (`api_key` or AIRLOCK_AGENT_KEY)."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, timeout: float = 10.0, **http: Any
    ) -> None:
        self._http = httpx.Client(**_http_options(base_url, api_key, timeout, http))

    def __enter__(self) -> AirlockClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def submit(
        self,
        workflow: str,
        kind: str,
        title: str,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Item:
        """Submit one output (fields as in the intake body); answers at once, never waits."""
        body, headers = _submission(workflow, kind, title, idempotency_key, fields)
        for attempt in itertools.count():
            try:
                return _read(self._http.post("/api/v1/items", json=body, headers=headers))
            except (AirlockError, httpx.TransportError) as error:
                time.sleep(_retry_pause(error, attempt))
        raise AssertionError("unreachable")

    def get(self, item_id: str) -> Item:
        """The item's current state."""
        return _read(self._http.get(f"/api/v1/items/{item_id}"))

    def wait(self, item_id: str, timeout: float = 300.0) -> Item:
        """Long-poll until a human decides the item or `timeout` seconds pass; returns it.

        A lost answer or a 5xx is asked again (as `submit` resends), within the timeout."""
        deadline, failures, asked = time.monotonic() + timeout, 0, False
        while True:
            url, poll = f"/api/v1/items/{item_id}", _poll(deadline, asked)
            try:
                response = self._http.get(url, params=poll, timeout=MAX_POLL + 10)
                item, pause = _wait_step(response, deadline)
                asked = True
            except (AirlockError, httpx.TransportError) as error:
                item, pause = None, _after_failure(error, failures, deadline)
                failures += 1
            if item is not None:
                return item
            time.sleep(pause)

    def workflows(self) -> list[dict[str, Any]]:
        """The workflows this key may submit to, with what each accepts."""
        response = self._http.get("/api/v1/workflows")
        if response.status_code >= 400:
            raise AirlockError.from_response(response)
        return list(response.json()["workflows"])

    def events(self, after: str | None = None, *, workflow: str | None = None) -> EventPage:
        """Every event after the cursor `after` (None: from the start), following `has_more`."""
        events: list[Event] = []
        more = True
        while more:
            response = self._http.get("/api/v1/events", params=page_params(workflow, after))
            after, more = read_page(response, events)
        return EventPage(events, after)


class AsyncAirlockClient:
    """The async twin of AirlockClient, for agents running on an event loop."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, timeout: float = 10.0, **http: Any
    ) -> None:
        self._http = httpx.AsyncClient(**_http_options(base_url, api_key, timeout, http))

    async def __aenter__(self) -> AsyncAirlockClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def submit(
        self,
        workflow: str,
        kind: str,
        title: str,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Item:
        """Submit one output (fields as in the intake body); answers at once, never waits."""
        body, headers = _submission(workflow, kind, title, idempotency_key, fields)
        for attempt in itertools.count():
            try:
                return _read(await self._http.post("/api/v1/items", json=body, headers=headers))
            except (AirlockError, httpx.TransportError) as error:
                await asyncio.sleep(_retry_pause(error, attempt))
        raise AssertionError("unreachable")

    async def get(self, item_id: str) -> Item:
        """The item's current state."""
        return _read(await self._http.get(f"/api/v1/items/{item_id}"))

    async def wait(self, item_id: str, timeout: float = 300.0) -> Item:
        """Long-poll until a human decides the item or `timeout` seconds pass; returns it.

        A lost answer or a 5xx is asked again (as `submit` resends), within the timeout."""
        deadline, failures, asked = time.monotonic() + timeout, 0, False
        while True:
            url, poll = f"/api/v1/items/{item_id}", _poll(deadline, asked)
            try:
                response = await self._http.get(url, params=poll, timeout=MAX_POLL + 10)
                item, pause = _wait_step(response, deadline)
                asked = True
            except (AirlockError, httpx.TransportError) as error:
                item, pause = None, _after_failure(error, failures, deadline)
                failures += 1
            if item is not None:
                return item
            await asyncio.sleep(pause)

    async def events(self, after: str | None = None, *, workflow: str | None = None) -> EventPage:
        """Every event after the cursor `after` (None: from the start), following `has_more`."""
        events: list[Event] = []
        more = True
        while more:
            response = await self._http.get("/api/v1/events", params=page_params(workflow, after))
            after, more = read_page(response, events)
        return EventPage(events, after)
