"""model promotions

model_promotions: every time a model became the one the running Rasa serves, by promotion of a
compared candidate or by restoring a model of the history (handoff_service/model_registry.py,
docs/trainer.md): who, when, which model (a path inside models/), the one before, whether the
running Rasa switched, and the comparison's figures (intent names and numbers, no text).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_promotions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", handoff_service.db.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("previous_model", sa.String(length=255), nullable=True),
        sa.Column("rasa_switched", sa.Boolean(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_model_promotions_created_at"), "model_promotions", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_model_promotions_created_at"), table_name="model_promotions")
    op.drop_table("model_promotions")
