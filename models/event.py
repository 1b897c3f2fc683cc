"""The audit trail: append-only events, hash-chained per stream (an item or a workflow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class Event(SQLModel, table=True):
    """What happened, who did it, when, and the hash linking it to the event before."""

    # The unique (stream, seq) index is also how a stream is read; no other index slows writes.
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_event_stream_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=80)
    item_id: str | None = Field(default=None, max_length=32)
    workflow_id: str = Field(index=True, max_length=64)
    seq: int
    type: str
    actor: str
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    prev_hash: str | None = Field(default=None, max_length=64)
    # An item event records digests of the item row's audited fields as they stood after it
    # (bot.core.lifecycle.BOUND_FIELDS), so `audit verify` can tell when the row was edited
    # behind it.
    state: dict[str, Any] | None = Field(default=None, sa_column=Column(JsonType, nullable=True))
    hash: str = Field(max_length=64)
    # HMAC-SHA256 of `hash` under AIRLOCK_AUDIT_KEY (bot.base.audit_key); None if written without.
    mac: str | None = Field(default=None, max_length=64)
