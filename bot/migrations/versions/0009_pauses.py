"""pauses: scoped stop buttons (one agent, one record), delegations, an item's delegator

Revision ID: 0009_pauses
Revises: 0008_item_snooze
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_pauses"
down_revision = "0008_item_snooze"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pause_scope",
        sa.Column("kind", sa.String(length=16), primary_key=True),
        sa.Column("target", sa.String(length=200), primary_key=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("paused_by", sa.String(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_pause_scope_until", "pause_scope", ["until"])
    op.create_table(
        "delegation",
        sa.Column("delegator", sa.String(length=32), primary_key=True),
        sa.Column("delegate", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_delegation_delegate", "delegation", ["delegate"])
    op.create_index("ix_delegation_until", "delegation", ["until"])
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("delegator", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("delegator")
    op.drop_index("ix_delegation_until", table_name="delegation")
    op.drop_index("ix_delegation_delegate", table_name="delegation")
    op.drop_table("delegation")
    op.drop_index("ix_pause_scope_until", table_name="pause_scope")
    op.drop_table("pause_scope")
