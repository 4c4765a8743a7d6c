"""trainer inbox exported_at

trainer_inbox_items.exported_at: when `make export-labels` (or POST /api/v1/trainer/export)
wrote the accepted item into data/nlu, or found it there already under the same intent
(handoff_service/label_export.py, docs/trainer.md). Null: not exported (yet). An item is
exported once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "trainer_inbox_items",
        sa.Column("exported_at", handoff_service.db.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("trainer_inbox_items") as batch_op:
        batch_op.drop_column("exported_at")
