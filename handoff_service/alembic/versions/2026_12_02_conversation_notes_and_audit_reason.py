"""conversation notes and audit reason

conversation_notes holds the counsellors' internal notes on a conversation (staff only, deleted
with the conversation: ON DELETE CASCADE). audit_events.reason keeps why, as a fixed code (a
release's reason), never free text (handoff_service/shift_tools.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", handoff_service.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_conversation_notes_conversation_id", "conversation_notes", ["conversation_id"]
    )
    op.add_column("audit_events", sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("reason")
    op.drop_index("ix_conversation_notes_conversation_id", table_name="conversation_notes")
    op.drop_table("conversation_notes")
