"""message client message id

messages.client_message_id keeps the id the chat page gives each message it sends, and a unique
index per conversation makes a retry of the same message find the first turn instead of storing
it twice. Nullable: bot and counsellor lines, and every message stored before, have none (NULLs
never clash in a unique index, on SQLite and PostgreSQL alike).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("client_message_id", sa.String(64), nullable=True))
    op.create_index(
        "ix_messages_client_message_id",
        "messages",
        ["conversation_id", "client_message_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_client_message_id", table_name="messages")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("client_message_id")
