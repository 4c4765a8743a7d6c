"""statistics

Statistics that outlive retention (issue #17, docs/statistics.md). conversations gains the young
person's anonymous feedback, the counsellor's registration (fixed codes, never text), the cells
the conversation currently adds to the aggregates (stats_contribution) and whether an answer left
for later was picked up. stat_cells holds the counts per organisation, ISO week and hour of day;
stat_service_hours marks each hour with a counsellor on shift once, so the service-hours count
never doubles. No text, no ids of people or conversations, nothing finer than the hour.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite allows it for nullable columns and a constant default): a batch
    # copy of the table would rebuild ix_conversations_queue without its DESC.
    op.add_column("conversations", sa.Column("feedback", sa.JSON(), nullable=True))
    op.add_column("conversations", sa.Column("registration", sa.JSON(), nullable=True))
    op.add_column("conversations", sa.Column("stats_contribution", sa.JSON(), nullable=True))
    op.add_column(
        "conversations",
        sa.Column("letterbox_picked_up", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "stat_cells",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("period_week", sa.String(length=8), nullable=False),
        sa.Column("hour_of_day", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stat_cells"),
        sa.UniqueConstraint(
            "organisation",
            "period_week",
            "hour_of_day",
            "metric",
            "category",
            name="uq_stat_cells_organisation",
        ),
    )
    op.create_table(
        "stat_service_hours",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("hour_start", handoff_service.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stat_service_hours"),
        sa.UniqueConstraint(
            "organisation", "hour_start", name="uq_stat_service_hours_organisation"
        ),
    )


def downgrade() -> None:
    op.drop_table("stat_service_hours")
    op.drop_table("stat_cells")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_column("letterbox_picked_up")
        batch_op.drop_column("stats_contribution")
        batch_op.drop_column("registration")
        batch_op.drop_column("feedback")
