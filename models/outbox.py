"""Side effects committed with the state change that caused them, delivered by workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class Outbox(SQLModel, table=True):
    """One side effect to deliver (a Slack post, a Salesforce write, a webhook)."""

    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    dedupe_key: str = Field(unique=True, max_length=200)
    item_id: str | None = Field(default=None, index=True, max_length=32)
    workflow_id: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonType, nullable=False)
    )
    status: str = Field(default="pending", max_length=16)
    # Slack posts and Salesforce writes wait while the workflow is paused; webhooks do not.
    pausable: bool = True
    attempts: int = 0
    max_attempts: int = 12
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    last_error: str | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxAttempt(SQLModel, table=True):
    """One delivery attempt of an outbox row, kept for the trace and for debugging."""

    __tablename__ = "outbox_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(index=True)
    attempt: int
    worker: str
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: str
    detail: str = ""
