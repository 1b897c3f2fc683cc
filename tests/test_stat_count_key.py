"""Migration 0014: on PostgreSQL the counters' primary key carries `n` (index-only window reads);
it goes down and up again, and counters still upsert through it. SQLite is left as it is."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, select, text

from bot.base.db import Database, alembic_config
from bot.core import rollups
from bot.core.rollups import STATS, Key

BUCKET = datetime(2026, 3, 1, tzinfo=UTC)


def _key_definition(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name != "postgresql":
                return "sqlite"
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'stat_count_pkey'"
            return str(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def _count_twice(url: str) -> int:
    db = Database(url, None)
    key: Key = ("opp-hygiene", "d", BUCKET, "agent", "status", "pending")
    for _ in range(2):
        with db.write() as session:
            rollups.apply(session, Counter({key: 1}))
    with db.read() as session:
        found = session.execute(select(STATS.c.n).where(STATS.c.metric == "status")).scalar_one()
    db.dispose()
    return int(found)


def test_the_counters_key_carries_n_down_and_up(database_url: str) -> None:
    postgres = database_url.startswith("postgresql")
    assert ("INCLUDE (n)" in _key_definition(database_url)) is postgres
    command.downgrade(alembic_config(database_url), "0013_traceparent")
    assert "INCLUDE" not in _key_definition(database_url)
    command.upgrade(alembic_config(database_url), "head")
    assert ("INCLUDE (n)" in _key_definition(database_url)) is postgres
    assert _count_twice(database_url) == 2  # ON CONFLICT finds the key through the new index
