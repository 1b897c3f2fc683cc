"""Slack Events API deliveries already handled, so a retried event is processed once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class SlackEvent(SQLModel, table=True):
    """One Slack `event_id` seen."""

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    type: str = ""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
