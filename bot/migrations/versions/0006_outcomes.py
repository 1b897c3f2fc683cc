"""outcomes: an item's segment, when its outcome is read next, and what was read

Revision ID: 0006_outcomes
Revises: 0005_agent_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_outcomes"
down_revision = "0005_agent_events"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("segment", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("outcome_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("outcome", _JSON, nullable=True))
    op.create_index("ix_item_outcome_due", "item", ["outcome_due_at"])


def downgrade() -> None:
    op.drop_index("ix_item_outcome_due", table_name="item")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("outcome")
        batch.drop_column("outcome_due_at")
        batch.drop_column("segment")
