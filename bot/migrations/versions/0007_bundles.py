"""bundles: items reviewed together in one Slack message carry the bundle's id

Revision ID: 0007_bundles
Revises: 0006_outcomes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_bundles"
down_revision = "0006_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("bundle_id", sa.String(length=32), nullable=True))
    op.create_index("ix_item_bundle_id", "item", ["bundle_id"])


def downgrade() -> None:
    op.drop_index("ix_item_bundle_id", table_name="item")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("bundle_id")
