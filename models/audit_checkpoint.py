"""Signed checkpoints over every audit stream's head, and Slack request signatures already seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class AuditCheckpoint(SQLModel, table=True):
    """The heads of the streams that moved since the checkpoint before, signed and chained.

    Replaying every checkpoint in order gives the last signed (seq, hash) of every stream, so a
    stream deleted whole, or truncated with its head rolled back, no longer matches it.
    """

    __tablename__ = "audit_checkpoint"

    seq: int = Field(primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Highest event id seen; the next checkpoint looks at events after (a margin before) it.
    watermark: int = 0
    heads: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    prev_signature: str | None = Field(default=None, max_length=80)
    signed: bool = False
    signature: str = Field(max_length=80)


class SlackSignature(SQLModel, table=True):
    """A Slack request signature already accepted, kept until Slack's replay window has passed."""

    __tablename__ = "slack_signature"

    signature: str = Field(primary_key=True, max_length=80)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
