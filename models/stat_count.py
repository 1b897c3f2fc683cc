"""Counters behind the read models: how many items of a workflow share one fact, per time bucket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class StatCount(SQLModel, table=True):
    """Items of (workflow, agent) received in `bucket` whose current row has fact (metric, key).

    Maintained by bot.core.lifecycle in the same transaction as each state change and
    recomputable from the item rows (`airlock db rebuild-stats`), so reading them costs the
    number of buckets in a window, never the number of items.
    """

    __tablename__ = "stat_count"
    # SQLite keeps the rows in the primary key's B-tree (migration 0011): a window's range read
    # finds `n` there instead of looking each row up in a rowid table.
    __table_args__ = {"sqlite_with_rowid": False}
    # Primary key order = read order: all-time rows of every workflow are one short range, and a
    # window is one range per workflow.

    # h: the hour starting at `bucket`; d: the day; t: all time (bucket is the epoch).
    grain: str = Field(primary_key=True, max_length=1)
    workflow_id: str = Field(primary_key=True, max_length=64)
    bucket: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    agent: str = Field(primary_key=True, max_length=200)
    # status, writeback, escalated, reason (rejected items) or wait (a latency bucket index).
    metric: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=100)
    n: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
