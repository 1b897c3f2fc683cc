"""The decision webhook: hands the human verdict back to the agent that asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from bot.base.db import Database
from bot.core.outbox import Outcome, Route
from bot.core.trace import item_view
from models import Outbox

RETRY_STATUSES = frozenset({408, 425, 429})


def decision_payload(view: dict[str, Any]) -> dict[str, Any]:
    """What the agent learns: verdict, authority, edits and reasons, and what was written."""
    keep = ("id", "workflow", "status", "authority", "decision", "writeback_state", "changes")
    return {"type": "airlock.decision", **{k: view[k] for k in keep}}


def webhook_route(db: Database, client: httpx.Client | None = None) -> Route:
    """Outbox route delivering decision webhooks, one POST per row."""
    http = client or httpx.Client(timeout=5.0, trust_env=False)

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        return {row.id or 0: _post(db, http, row) for row in rows}

    return Route(deliver, batch_size=20)


def _post(db: Database, http: httpx.Client, row: Outbox) -> Outcome:
    with db.read() as session:
        payload = decision_payload(item_view(session, row.item_id or ""))
    headers = {"Airlock-Delivery": row.dedupe_key, "Content-Type": "application/json"}
    try:
        response = http.post(row.payload["url"], json=payload, headers=headers)
    except httpx.HTTPError as exc:
        # The agent's receiver is down or slow: wait it out (until the give-up deadline) without
        # spending attempts, as for Slack and Salesforce outages.
        return Outcome.wait(f"{type(exc).__name__}: {exc}")
    if response.is_success:
        return Outcome.done(f"HTTP {response.status_code}")
    if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
        return Outcome.wait(f"HTTP {response.status_code}", delay=_retry_after(response))
    return Outcome.dead(f"HTTP {response.status_code}: {response.text[:300]}")


def _retry_after(response: httpx.Response) -> float | None:
    # RFC 9110 section 10.2.3: Retry-After in seconds (the HTTP-date form is treated as absent).
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
