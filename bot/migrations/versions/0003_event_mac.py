"""audit: each event's MAC under AIRLOCK_AUDIT_KEY

Revision ID: 0003_event_mac
Revises: 0002_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_event_mac"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: events written before (or without) the key stay verifiable by their chain.
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("mac")
