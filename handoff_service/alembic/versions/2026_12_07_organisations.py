"""organisations

Several municipalities on one platform (issue #16, docs/organisations.md). A new table
organisations; conversations gain the queue they are in (organisation_id), the page they started
on (origin_organisation_id) and why they are in that queue (queue_reason); users, weekly shifts
and shift exceptions gain their organisation, and a network's shifts the member organisation that
staffs them (staffed_by_id).

Today's single setup becomes one organisation, "default", the plain / page's: every existing
conversation, shift and closed date is put in it, and every existing user except admins works
for it. Admins stay platform-wide (organisation_id NULL), so they keep every right they had.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoff_service.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DEFAULT_SLUG = "default"
DEFAULT_NAME = "Chatrådgivningen"


#: (table, column, ON DELETE) of every new reference to an organisation.
REFERENCES = (
    ("conversations", "organisation_id", "RESTRICT"),
    ("conversations", "origin_organisation_id", "RESTRICT"),
    ("users", "organisation_id", "RESTRICT"),
    ("weekly_shifts", "organisation_id", "CASCADE"),
    ("weekly_shifts", "staffed_by_id", "SET NULL"),
    ("shift_exceptions", "organisation_id", "CASCADE"),
    ("shift_exceptions", "staffed_by_id", "SET NULL"),
)


def _add_reference(table: str, column: str, ondelete: str) -> None:
    """A nullable column referencing organisations, without copying the table.

    SQLite adds a foreign key only with the column itself (ALTER TABLE ... ADD COLUMN ...
    REFERENCES): alembic's batch mode would copy the table and drop the old one, and with
    foreign keys on, dropping conversations or users would cascade into messages, audit rows
    and refresh tokens."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"REFERENCES organisations (id) ON DELETE {ondelete}"
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(
        f"fk_{table}_{column}_organisations",
        table,
        "organisations",
        [column],
        ["id"],
        ondelete=ondelete,
    )


def _drop_reference(table: str, column: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(f"fk_{table}_{column}_organisations", table, type_="foreignkey")
    op.drop_column(table, column)  # SQLite 3.35+: plain DROP COLUMN of an unindexed column


def upgrade() -> None:
    organisations = op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("presentation", sa.Text(), nullable=False),
        sa.Column("age_range", sa.String(length=40), nullable=False),
        sa.Column("confidentiality", sa.Text(), nullable=False),
        sa.Column("local_info", sa.JSON(), nullable=False),
        sa.Column("created_at", handoff_service.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["organisations.id"],
            name="fk_organisations_network_id_organisations",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("slug", name="uq_organisations_slug"),
    )
    now = handoff_service.db.utcnow()
    op.bulk_insert(
        organisations,
        [
            {
                "id": 1,
                "slug": DEFAULT_SLUG,
                "name": DEFAULT_NAME,
                "kind": "service",
                "network_id": None,
                "is_default": True,
                "presentation": "",
                "age_range": "",
                "confidentiality": "",
                "local_info": [],
                "created_at": now,
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # The explicit id 1 does not move the sequence: the next organisation must get 2.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('organisations', 'id'), "
            "(SELECT max(id) FROM organisations))"
        )

    for table, column, ondelete in REFERENCES:
        _add_reference(table, column, ondelete)
    op.add_column("conversations", sa.Column("queue_reason", sa.String(length=24), nullable=True))

    op.execute("UPDATE conversations SET organisation_id = 1, origin_organisation_id = 1")
    op.execute("UPDATE users SET organisation_id = 1 WHERE role <> 'admin'")
    op.execute("UPDATE weekly_shifts SET organisation_id = 1")
    op.execute("UPDATE shift_exceptions SET organisation_id = 1")

    op.create_index(
        "ix_conversations_queue_by_organisation",
        "conversations",
        ["organisation_id", "status", sa.text("risk_rank DESC"), "queued_at", "id"],
    )
    op.create_index("ix_users_organisation_id", "users", ["organisation_id"])
    op.create_index("ix_weekly_shifts_organisation_id", "weekly_shifts", ["organisation_id"])
    op.create_index("ix_shift_exceptions_organisation_id", "shift_exceptions", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_shift_exceptions_organisation_id", table_name="shift_exceptions")
    op.drop_index("ix_weekly_shifts_organisation_id", table_name="weekly_shifts")
    op.drop_index("ix_users_organisation_id", table_name="users")
    op.drop_index("ix_conversations_queue_by_organisation", table_name="conversations")
    op.drop_column("conversations", "queue_reason")
    for table, column, _ondelete in reversed(REFERENCES):
        _drop_reference(table, column)
    op.drop_table("organisations")
