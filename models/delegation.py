"""Who decides for whom while someone is away."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Delegation(SQLModel, table=True):
    """A person's items (and escalations) go to `delegate` until `until`; one per delegator."""

    delegator: str = Field(primary_key=True, max_length=32)
    delegate: str = Field(index=True, max_length=32)
    until: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
