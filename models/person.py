"""People: Slack user <-> email <-> Salesforce user <-> manager, cached with a TTL."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Person(SQLModel, table=True):
    """A reviewer as Slack and Salesforce know them."""

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str | None = Field(default=None, unique=True, max_length=32)
    email: str | None = Field(default=None, index=True)
    sf_user_id: str | None = Field(default=None, unique=True, max_length=18)
    manager_sf_user_id: str | None = Field(default=None, max_length=18)
    manager_slack_user_id: str | None = Field(default=None, max_length=32)
    name: str = ""
    tz: str = "UTC"
    active: bool = True
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
