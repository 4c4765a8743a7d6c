"""trainer inbox

trainer_inbox_items holds young people's messages the bot was unsure about, scrubbed of personal
data (triage_core/scrub.py), merged by text_hash, with the day only and nothing that links them
to a conversation. trainer_inbox_sources links an item to the conversations it came from, only so
that retention deletes it with them (handoff_service/trainer_inbox.py, docs/trainer.md).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainer_inbox_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("alternatives", sa.JSON(), nullable=False),
        sa.Column("lexicon_concept", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("labelled_by", sa.Integer(), nullable=True),
        sa.Column("labelled_at", handoff_service.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["labelled_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text_hash"),
    )
    op.create_index("ix_trainer_inbox_items_day", "trainer_inbox_items", ["day"])
    op.create_index(
        "ix_trainer_inbox_items_status_confidence",
        "trainer_inbox_items",
        ["status", "confidence"],
    )
    op.create_table(
        "trainer_inbox_sources",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["trainer_inbox_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id", "conversation_id"),
    )
    op.create_index(
        "ix_trainer_inbox_sources_conversation_id", "trainer_inbox_sources", ["conversation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_trainer_inbox_sources_conversation_id", table_name="trainer_inbox_sources")
    op.drop_table("trainer_inbox_sources")
    op.drop_index("ix_trainer_inbox_items_status_confidence", table_name="trainer_inbox_items")
    op.drop_index("ix_trainer_inbox_items_day", table_name="trainer_inbox_items")
    op.drop_table("trainer_inbox_items")
