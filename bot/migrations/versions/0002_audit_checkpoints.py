"""audit: item state on events, signed checkpoints, Slack signatures seen

Revision ID: 0002_audit
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", _JSON, nullable=True))
    op.create_table(
        "audit_checkpoint",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("heads", _JSON, nullable=False),
        sa.Column("prev_signature", sa.String(length=80), nullable=True),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "slack_signature",
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    with op.batch_alter_table("slack_signature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_signature_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("slack_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_signature_expires_at"))
    op.drop_table("slack_signature")
    op.drop_table("audit_checkpoint")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("state")
