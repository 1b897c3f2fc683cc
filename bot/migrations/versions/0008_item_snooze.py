"""item snooze: when a reviewer's snooze of a pending item ends

Revision ID: 0008_item_snooze
Revises: 0007_bundles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_item_snooze"
down_revision = "0007_bundles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("item", sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("item", "snoozed_until")
