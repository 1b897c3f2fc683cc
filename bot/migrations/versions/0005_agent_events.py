"""agent events: the published events behind signed webhooks and the pull feed

Revision ID: 0005_agent_events
Revises: 0004_stat_counts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_agent_events"
down_revision = "0004_stat_counts"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agent_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("workflow_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_agent_event_order", "agent_event", ["tx", "id"])
    op.create_index("ix_agent_event_workflow", "agent_event", ["workflow_id", "tx", "id"])


def downgrade() -> None:
    op.drop_index("ix_agent_event_workflow", table_name="agent_event")
    op.drop_index("ix_agent_event_order", table_name="agent_event")
    op.drop_table("agent_event")
