"""stat counts: rollups behind /airlock stats, Home, report and workflow metrics

Revision ID: 0004_stat_counts
Revises: 0003_event_mac

The counters start from the rows already stored: the upgrade fills them the way
`airlock db rebuild-stats` does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_stat_counts"
down_revision = "0003_event_mac"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_count",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "workflow_id", "bucket", "agent", "metric", "key"),
    )
    from bot.core.rollups_rebuild import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("stat_count")
