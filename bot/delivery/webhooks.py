"""Signed agent events: one Standard Webhooks POST per published event, through the outbox.

Headers and signature follow https://www.standardwebhooks.com (`webhook-id`,
`webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`), made
with the `standardwebhooks` library so receivers verify with the same code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
from sqlmodel import col, select
from standardwebhooks import Webhook

from bot.core.outbox import Outcome, Route
from bot.core.runtime import Runtime
from models import AgentEvent, Outbox

RETRY_STATUSES = frozenset({408, 425, 429})
# A receiver that never answers holds one worker thread this long, then waits its turn again.
TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def webhook_route(
    rt: Runtime, client: httpx.Client | None = None, now: Callable[[], float] = time.time
) -> Route:
    """Outbox route delivering signed agent events, one POST per row.

    `now` stamps `webhook-timestamp`: the receiver's clock judges it, so it is the wall clock.
    """
    http = client or httpx.Client(timeout=TIMEOUT, trust_env=False)

    def to_one(rows: list[Outbox]) -> dict[int, Outcome]:
        """In order to one receiver; once it fails to answer, its other rows wait unsent."""
        outcomes: dict[int, Outcome] = {}
        for row in rows:
            outcome = _post(rt, http, row, now())
            outcomes[row.id or 0] = outcome
            if outcome.state == "wait":
                rest = Outcome.wait(
                    f"not sent: the receiver failed on event before ({outcome.detail})"
                )
                outcomes |= {other.id or 0: rest for other in rows[len(outcomes) :]}
                break
        return outcomes

    def deliver(rows: Sequence[Outbox]) -> dict[int, Outcome]:
        # One thread per receiver: a receiver that never answers costs this batch one timeout,
        # and delays neither the other receivers nor the worker's other kinds for longer.
        by_url: dict[str, list[Outbox]] = {}
        for row in rows:
            by_url.setdefault(row.payload.get("url", ""), []).append(row)
        with ThreadPoolExecutor(max_workers=min(len(by_url), 8) or 1) as pool:
            found = pool.map(to_one, by_url.values())
        return {k: v for outcomes in found for k, v in outcomes.items()}

    return Route(deliver, batch_size=20)


def signed_request(secret: str, event_id: str, body: bytes, at: float) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, sent as event `event_id` at `at` (epoch s)."""
    stamp = datetime.fromtimestamp(int(at), UTC)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at)),
        "webhook-signature": Webhook(secret).sign(event_id, stamp, body.decode()),
        "Content-Type": "application/json",
    }


def _post(rt: Runtime, http: httpx.Client, row: Outbox, at: float) -> Outcome:
    event_id = row.payload.get("event", "")
    with rt.db.read() as session:
        event = session.exec(select(AgentEvent).where(col(AgentEvent.event_id) == event_id)).first()
    if event is None:
        return Outcome.dead(f"event {event_id!r} is not stored (queued by an older Airlock?)")
    loaded = rt.specs.get(event.workflow_id)
    env_name = loaded.spec.callback_secret_env if loaded else None
    secret = rt.settings.webhook_secret_for(env_name)
    if not secret:
        # Kept dead (visible in `airlock outbox`); `airlock outbox retry --kind webhook` re-sends.
        return Outcome.dead(f"no signing secret: set {env_name or 'AIRLOCK_WEBHOOK_SECRET'}")
    body = json.dumps(event.body, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        headers = signed_request(secret, event_id, body, at)
    except ValueError as exc:  # not base64 after `whsec_`
        return Outcome.dead(f"{env_name or 'AIRLOCK_WEBHOOK_SECRET'} is not a whsec_ key: {exc}")
    try:
        response = http.post(row.payload["url"], content=body, headers=headers)
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
