"""stat count covering key (PostgreSQL): the primary key's index carries `n`

Revision ID: 0014_stat_count_covering_key
Revises: 0013_traceparent

A window of the rollups (`airlock report --since`, the console's Patterns) reads a range of the
primary key and each row's `n`. On PostgreSQL each index entry then costs a visit to the table
page holding the row, and a day's counters lie on as many pages as rows: at 1,000,000 items a
7-day window visited ~4,100 pages for ~7,200 rows (25 ms). With `n` included in the key's index
(`INCLUDE`, PostgreSQL 11+) the read is an index-only scan (8 ms) once autovacuum has marked the
pages visible, which it does for buckets no longer changing. SQLite keeps its counters in the
key's B-tree already (0011, WITHOUT ROWID).
"""

from __future__ import annotations

from alembic import op

revision = "0014_stat_count_covering_key"
down_revision = "0013_traceparent"
branch_labels = None
depends_on = None

KEY = "grain, workflow_id, bucket, agent, metric, key"


def _swap(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE UNIQUE INDEX stat_count_key_new ON stat_count ({KEY}){include}")
    op.execute("ALTER TABLE stat_count DROP CONSTRAINT stat_count_pkey")
    op.execute(
        "ALTER TABLE stat_count ADD CONSTRAINT stat_count_pkey PRIMARY KEY USING INDEX "
        "stat_count_key_new"
    )


def upgrade() -> None:
    _swap(" INCLUDE (n)")


def downgrade() -> None:
    _swap("")
