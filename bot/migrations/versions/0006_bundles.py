"""bundles: items reviewed together in one Slack message carry the bundle's id

Revision ID: 0006_bundles
Revises: 0005_agent_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_bundles"
down_revision = "0005_agent_events"
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
