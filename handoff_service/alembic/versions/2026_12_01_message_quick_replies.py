"""message quick replies

messages.quick_replies keeps the titles of the buttons Rasa sent with a bot line, so the chat
page can offer them as quick replies again after a reload. Nullable: every other message (and
every bot line stored before) has none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("quick_replies", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("quick_replies")
