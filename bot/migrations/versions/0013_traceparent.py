"""traceparent: the agent's W3C trace context, stored at intake for the decision and write spans

Revision ID: 0013_traceparent
Revises: 0012_item_reviewer_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_traceparent"
down_revision = "0012_item_reviewer_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("traceparent")
