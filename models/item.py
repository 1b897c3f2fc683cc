"""An item: one agent output and everything decided about it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow

# SQL NULL (not JSON null) until something is read, so "has an outcome" is an indexable test.
OUTCOME_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JsonType, nullable=nullable))


class Item(SQLModel, table=True):
    """One agent submission; status changes only through bot.core.lifecycle."""

    __table_args__ = (
        UniqueConstraint("agent_key_id", "idempotency_key", name="uq_item_idempotency"),
        Index("ix_item_status_workflow", "status", "workflow_id"),
        Index("ix_item_next_due", "next_due_at"),
        Index("ix_item_outcome_due", "outcome_due_at"),
        # The console's item list pages newest first by keyset on these (migration 0010).
        Index("ix_item_created", "created_at", "id"),
        Index("ix_item_workflow_created", "workflow_id", "created_at", "id"),
        Index("ix_item_assignee_created", "assignee", "created_at", "id"),
        Index("ix_item_manager_created", "manager", "created_at", "id"),
        Index("ix_item_record", "record_id", "created_at"),
        # Each reviewer's last decisions in a workflow (rubber-stamp detection), newest first.
        Index("ix_item_reviewer", "workflow_id", "decided_by", "decided_at"),
    )

    id: str = Field(primary_key=True, max_length=32)
    workflow_id: str = Field(index=True, max_length=64)
    workflow_version: str = Field(max_length=64)
    agent: str
    agent_key_id: str = Field(max_length=32)
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    raw: str
    raw_hash: str = Field(max_length=64)

    kind: str
    title: str
    summary: str = ""
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    sources: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False)
    )
    confidence: float | None = None
    record_sobject: str | None = None
    record_id: str | None = None
    changes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False)
    )
    task: dict[str, Any] | None = _json()
    message: dict[str, Any] | None = _json()

    level: str
    gate: str
    gate_reasons: list[str] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False)
    )
    checks: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JsonType, nullable=False)
    )
    assignee: str | None = None
    # Whose item it is when a delegate holds it (`/airlock delegate`): they may decide it too.
    delegator: str | None = Field(default=None, max_length=32)
    manager: str | None = None
    escalated: bool = False
    # Where the review cards live, so they are updated (never re-posted) after a decision.
    card_channel: str | None = None
    card_ts: str | None = None
    manager_card_channel: str | None = None
    manager_card_ts: str | None = None
    # The bundle message holding this item's row (card_channel/card_ts then point at it).
    bundle_id: str | None = Field(default=None, index=True, max_length=32)
    # Timers count from when the item started waiting for a human (intake, or release).
    pending_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Snoozed by a reviewer: no timer step before this moment, then the reviewer is reminded.
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)

    status: str
    authority: str = "advisory"
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: dict[str, Any] | None = _json()

    writeback_state: str = "none"
    writeback: dict[str, Any] | None = _json()

    response: dict[str, Any] | None = _json()
    # Region, industry, tier...: given at intake, or read from the spec's `segment_by`.
    segment: str | None = Field(default=None, max_length=100)
    # When the outcome read is next due (baseline, then end of window); None: nothing to read.
    outcome_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # {"arm": treated|holdout, "baseline": {...}, "values": {...}, "metrics": {name: bool}}
    outcome: dict[str, Any] | None = Field(
        default=None, sa_column=Column(OUTCOME_JSON, nullable=True)
    )
    next_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    audit_seq: int = 0
    audit_head: str | None = None
    # The agent's W3C traceparent at intake: decision and write spans join its trace.
    traceparent: str | None = Field(default=None, max_length=55)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
