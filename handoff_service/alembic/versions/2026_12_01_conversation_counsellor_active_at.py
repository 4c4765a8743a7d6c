"""conversation counsellor_active_at

conversations.counsellor_active_at keeps the holding counsellor's last keep-alive ("Jeg er her
stadig"), so a claim nobody is looking after can go back to the queue
(handoff_service/stale_claims.py). Nullable: no conversation had one before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("counsellor_active_at", handoff_service.db.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("counsellor_active_at")
