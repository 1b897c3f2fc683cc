"""A stop button narrower than a workflow: one agent, or one Salesforce record."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class PauseScope(SQLModel, table=True):
    """A pressed scoped stop button; the row is deleted on resume (the trail keeps the history)."""

    __tablename__ = "pause_scope"

    # `agent` (an agent key's agent name) or `record` (an 18-character Salesforce id).
    kind: str = Field(primary_key=True, max_length=16)
    target: str = Field(primary_key=True, max_length=200)
    reason: str | None = None
    paused_by: str
    paused_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Resumes by itself at this time (the scheduler's tick); None: until someone resumes it.
    until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
