"""item reviewer index: each reviewer's last decisions per workflow, for rubber-stamp detection

Revision ID: 0012_item_reviewer_index
Revises: 0011_stat_count_without_rowid
"""

from __future__ import annotations

from alembic import op

revision = "0012_item_reviewer_index"
down_revision = "0011_stat_count_without_rowid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_item_reviewer", "item", ["workflow_id", "decided_by", "decided_at"])


def downgrade() -> None:
    op.drop_index("ix_item_reviewer", table_name="item")
