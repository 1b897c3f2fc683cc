"""console item indexes: keyset paging of the item list, newest first, per filter

Revision ID: 0010_console_item_indexes
Revises: 0009_pauses
"""

from __future__ import annotations

from alembic import op

revision = "0010_console_item_indexes"
down_revision = "0009_pauses"
branch_labels = None
depends_on = None

# (name, columns): each filter of the console's item list reads one range of one of these.
INDEXES = (
    ("ix_item_created", ["created_at", "id"]),
    ("ix_item_workflow_created", ["workflow_id", "created_at", "id"]),
    ("ix_item_assignee_created", ["assignee", "created_at", "id"]),
    ("ix_item_manager_created", ["manager", "created_at", "id"]),
    ("ix_item_record", ["record_id", "created_at"]),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, "item", columns)


def downgrade() -> None:
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="item")
