"""queue and retention indexes, audit subject

The queue index now matches the queue order exactly (status, risk_rank DESC, queued_at, id), so
claiming reads the first index entry instead of sorting the waiting conversations, and one
position is two index range counts. closed_at and (status, updated_at) serve the retention job
and the recent handling times; audit_events.created_at serves the audit trail's own retention.
audit_events.subject_user_id records which user an admin created, changed or disabled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_conversations_queue_order", table_name="conversations")
    op.create_index(
        "ix_conversations_queue",
        "conversations",
        ["status", sa.text("risk_rank DESC"), "queued_at", "id"],
    )
    op.create_index("ix_conversations_closed_at", "conversations", ["closed_at"])
    op.create_index("ix_conversations_status_updated_at", "conversations", ["status", "updated_at"])
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.add_column(sa.Column("subject_user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.drop_column("subject_user_id")
    op.drop_index("ix_audit_events_created_at", table_name="audit_events")
    op.drop_index("ix_conversations_status_updated_at", table_name="conversations")
    op.drop_index("ix_conversations_closed_at", table_name="conversations")
    op.drop_index("ix_conversations_queue", table_name="conversations")
    op.create_index(
        "ix_conversations_queue_order", "conversations", ["status", "risk_rank", "queued_at"]
    )
