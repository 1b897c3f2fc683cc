"""Workflow state (the spec lives in YAML; pause state and versions live here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from models.types import JsonType, UTCDateTime, utcnow


class Workflow(SQLModel, table=True):
    """One agent workflow: its latest loaded spec, and whether its stop button is pressed."""

    id: str = Field(primary_key=True, max_length=64)
    name: str
    owner: str
    level: str
    mode: str
    version: str = Field(max_length=64)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    path: str = ""
    paused: bool = False
    # Set by `/airlock promote` (autopilot, on evidence) or by auto-pause (back to review).
    mode_override: str | None = None
    paused_reason: str | None = None
    paused_by: str | None = None
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Auto-pause judges only decisions made after the last resume.
    resumed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    audit_seq: int = 0
    audit_head: str | None = None
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkflowVersion(SQLModel, table=True):
    """Every spec version ever loaded, so an item's governing spec can be shown later."""

    __tablename__ = "workflow_version"

    workflow_id: str = Field(primary_key=True, max_length=64)
    version: str = Field(primary_key=True, max_length=64)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JsonType, nullable=False))
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
