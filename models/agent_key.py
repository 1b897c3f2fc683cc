"""Per-agent API keys, stored hashed and scoped to named workflows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class AgentKey(SQLModel, table=True):
    """An agent's credential; the secret itself is never stored."""

    __tablename__ = "agent_key"

    id: str = Field(primary_key=True, max_length=32)
    agent: str = Field(index=True)
    key_hash: str = Field(max_length=64)
    workflows: list[str] = Field(default_factory=list, sa_column=Column(JsonType, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
