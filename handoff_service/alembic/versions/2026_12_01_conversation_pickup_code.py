"""conversation pickup code

conversations.pickup_hash holds the keyed hash of the short pickup code a young person types to
come back (handoff_service/pickup.py); a unique index, so a code finds exactly one conversation.
Nullable: conversations started before have only their long token.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No batch mode: SQLite's table copy would rebuild ix_conversations_queue without its DESC.
    op.add_column("conversations", sa.Column("pickup_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_conversations_pickup_hash", "conversations", ["pickup_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_conversations_pickup_hash", table_name="conversations")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("pickup_hash")
    # SQLite's table copy loses the DESC of the queue index: build it again as 0002 made it.
    op.drop_index("ix_conversations_queue", table_name="conversations")
    op.create_index(
        "ix_conversations_queue",
        "conversations",
        ["status", sa.text("risk_rank DESC"), "queued_at", "id"],
    )
