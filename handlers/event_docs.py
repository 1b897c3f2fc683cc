"""The OpenAPI `webhooks` section: each signed agent event, its headers and its payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Header
from pydantic import BaseModel, ConfigDict, Field, create_model

from bot.core.agent_events import TYPES

_HEADERS = (
    "Standard Webhooks (https://www.standardwebhooks.com): verify `webhook-signature` over "
    "`webhook-id.webhook-timestamp.body` with your `whsec_` secret, e.g. "
    "`standardwebhooks.Webhook(secret).verify(body, headers)`; `webhook-id` is the same on every "
    "retry of one event, so dedupe on it. The same bodies are served by GET /api/v1/events."
)


class ItemRecord(BaseModel):
    """The Salesforce record the item is about."""

    sobject: str | None = None
    id: str | None = None


class ItemEventData(BaseModel):
    """An item's state right after the event, and what the event recorded."""

    id: str = Field(description="the item id returned at intake")
    workflow: str
    status: str = Field(
        description="approved, edited, rejected, expired, auto_accepted, held_out, ..."
    )
    authority: str | None = None
    decided_by: str | None = None
    decision: dict[str, Any] | None = Field(None, description="reason, note, edits of the verdict")
    writeback_state: str | None = None
    changes: list[dict[str, Any]] = Field(default_factory=list)
    record: ItemRecord
    segment: str | None = Field(None, description="region, industry, tier... if known")
    actor: str = Field(description="who caused it: user:<slack id>, system, policy:auto, ...")
    detail: dict[str, Any] = Field(description="the audit event's own data (results, error...)")


class WorkflowEventData(BaseModel):
    """A workflow's stop button or autonomy changed."""

    workflow: str
    actor: str
    change: str = Field(description="paused, resumed, promoted, demoted or override_cleared")
    mode: str | None = Field(None, description="autonomy changes only: the mode now in force")
    reason: str | None = None
    detail: dict[str, Any]


class FeedEvent(BaseModel):
    """One event of the pull feed: a webhook body with its `webhook-id` as `id`."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="the same as the webhook's `webhook-id`: dedupe on it")
    type: str = Field(description="one of the types under `webhooks`")
    timestamp: datetime
    data: dict[str, Any]


class EventsPage(BaseModel):
    """A page of GET /api/v1/events."""

    events: list[FeedEvent]
    next_cursor: str | None = Field(description="send as `after` to read on; null: no events yet")
    has_more: bool = Field(description="true: ask again now, more events follow")


_ABOUT = {
    "item.decided": "An item reached its verdict (approved, edited, rejected, expired, auto).",
    "item.written": "Write-back to Salesforce finished: every change applied.",
    "item.conflict": "Write-back stopped: the record changed since the agent read it.",
    "item.failed": "Write-back failed for good (refused by Salesforce, or gave up).",
    "item.outcome": "The item's outcome was read at the end of its window (detail: arm, metrics).",
    "item.reverted": "A written item was undone, or a person changed a written field back.",
    "workflow.paused": "The workflow's stop button was pressed (by a person or auto-pause).",
    "workflow.resumed": "The workflow was resumed; held items are released.",
    "workflow.autonomy_changed": "Autopilot was granted (promote) or taken back (demote).",
}


def body_model(kind: str) -> type[BaseModel]:
    """The documented body of one event type."""
    data = ItemEventData if kind.startswith("item.") else WorkflowEventData
    fields: dict[str, Any] = {
        "type": (Literal[kind], ...),
        "timestamp": (datetime, ...),
        "data": (data, ...),
    }
    name = "".join(p.title() for p in kind.replace(".", "_").split("_")) + "Event"
    return create_model(name, **fields)


def document_webhooks(app: FastAPI) -> None:
    """Declare every event type under `webhooks` (OpenAPI 3.1), with its signed headers."""
    for kind in TYPES:
        _declare(app, kind, body_model(kind))


def _declare(app: FastAPI, kind: str, body_model: type[BaseModel]) -> None:
    def receive(
        body: body_model,  # type: ignore[valid-type]
        webhook_id: str = Header(..., alias="webhook-id"),
        webhook_timestamp: str = Header(..., alias="webhook-timestamp"),
        webhook_signature: str = Header(..., alias="webhook-signature"),
    ) -> None:
        """Documentation only: Airlock sends this; your endpoint receives it."""

    # Annotations are strings under `from __future__ import annotations`; this one names a class
    # built at runtime, so FastAPI gets the class itself.
    receive.__annotations__["body"] = body_model
    app.webhooks.post(
        kind,
        summary=_ABOUT.get(kind, f"The agent event {kind}."),
        description=_HEADERS,
        operation_id=f"event_{kind.replace('.', '_')}",
        status_code=204,
        response_description="Any 2xx ends delivery; 5xx, 408, 425, 429 are retried",
    )(receive)
