"""Agent events: the pull feed (`GET /api/v1/events`) and the signed webhooks that carry them.

Both carry the same bodies; a webhook's `webhook-id` is the feed event's `id`, so dedupe on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from airlock_client.errors import AirlockError

PAGE_LIMIT = 500  # the server's cap on ?limit=


class InvalidWebhook(ValueError):
    """A webhook whose signature, headers or body do not check out: do not act on it."""


@dataclass(frozen=True)
class Event:
    """One agent event: `type` as listed under `webhooks` in /openapi.json, `data` its payload."""

    id: str
    type: str
    timestamp: str
    data: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], event_id: str | None = None) -> Event:
        """Build from a feed event, or from a webhook body and its `webhook-id`."""
        return cls(
            id=event_id or str(body["id"]),
            type=str(body["type"]),
            timestamp=str(body["timestamp"]),
            data=dict(body["data"]),
            raw=dict(body),
        )


@dataclass(frozen=True)
class EventPage:
    """Every event after a cursor, as of now; read on later with `after=next_cursor`."""

    events: list[Event]
    next_cursor: str | None


def page_params(workflow: str | None, after: str | None) -> dict[str, str]:
    """The query of one feed request."""
    params = {"limit": str(PAGE_LIMIT)}
    if workflow is not None:
        params["workflow"] = workflow
    if after is not None:
        params["after"] = after
    return params


def read_page(response: httpx.Response, into: list[Event]) -> tuple[str | None, bool]:
    """Append a page's events to `into`; answer (its next cursor, whether more follow)."""
    if response.status_code >= 400:
        raise AirlockError.from_response(response)
    body = response.json()
    into.extend(Event.from_json(e) for e in body["events"])
    return body["next_cursor"], bool(body["has_more"])


def verify_webhook(headers: Mapping[str, str], body: bytes | str, secret: str) -> Event:
    """The event a webhook request carries, once its Standard Webhooks signature checks out.

    `headers` as received (any case), `body` the raw bytes before any JSON parsing, `secret`
    the `whsec_...` key Airlock signs with. Raises InvalidWebhook on a bad or stale signature.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        parsed = Webhook(secret).verify(body, lowered)
    except WebhookVerificationError as exc:
        raise InvalidWebhook(f"webhook signature does not verify: {exc}") from exc
    except ValueError as exc:  # signed, but the body is not JSON
        raise InvalidWebhook(f"cannot verify the webhook: {exc}") from exc
    if not isinstance(parsed, dict) or not {"type", "timestamp", "data"} <= parsed.keys():
        raise InvalidWebhook("verified, but the body is not an Airlock event (type, data)")
    return Event.from_json(parsed, event_id=lowered["webhook-id"])
