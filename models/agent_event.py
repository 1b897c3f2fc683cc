"""Events published to agents: signed webhooks and the pull feed read the same rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class AgentEvent(SQLModel, table=True):
    """One published event (`item.decided`, `workflow.paused`, ...) with its exact body."""

    __tablename__ = "agent_event"
    # The pull feed reads events (of one workflow or all) in (tx, id) order, after a cursor.
    __table_args__ = (
        Index("ix_agent_event_order", "tx", "id"),
        Index("ix_agent_event_workflow", "workflow_id", "tx", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # PostgreSQL: the id of the transaction that wrote it. Ids are drawn before commit, so a
    # later id can commit first; the feed serves only transactions older than every running one
    # and orders by (tx, id), so none is skipped. SQLite commits one writer at a time: always 0.
    tx: int = Field(default=0, sa_type=BigInteger)
    # The Standard Webhooks `webhook-id`: the same on every retry, so receivers can dedupe.
    event_id: str = Field(unique=True, max_length=40)
    type: str = Field(max_length=40)
    workflow_id: str = Field(max_length=64)
    item_id: str | None = Field(default=None, max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # `{type, timestamp, data}` exactly as signed and sent.
    body: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
