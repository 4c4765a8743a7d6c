"""rate counters

rate_counters: the rate limits and login waits shared by every service process on one
PostgreSQL (handoff_service/rate_counters.py, handoff_service/ratelimit.py). UNLOGGED there: the
counts are worth nothing after a crash and need no WAL, no replica and no base backup. Under
SQLite the same (logged, unused) table keeps the schema identical; the limits stay in memory.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "hits",
            postgresql.ARRAY(sa.Double()).with_variant(sa.JSON(), "sqlite"),
            nullable=False,
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.Double(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        prefixes=["UNLOGGED"] if postgres else [],
    )


def downgrade() -> None:
    op.drop_table("rate_counters")
