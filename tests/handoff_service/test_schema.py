"""Migrations build exactly the schema the models describe; the queue index serves the queue."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from handoff_service.db import Base, make_engine
from handoff_service.migrations import upgrade_database


def _fk_signature(constraint) -> tuple:
    element = next(iter(constraint.elements))
    return (
        constraint.table.name,
        tuple(column.name for column in constraint.columns),
        element.column.table.name if hasattr(element.column, "table") else element.target_fullname,
    )


def _without_unnamed_sqlite_keys(diffs: list, dialect: str) -> list:
    """SQLite adds a foreign key to an existing table only inline with its column, unnamed
    (migration 0012: a table copy would cascade deletes): a remove/add pair that differs only
    in the name is the same key."""
    if dialect != "sqlite":
        return diffs
    removed = {_fk_signature(d[1]) for d in diffs if d[0] == "remove_fk" and d[1].name is None}
    added = {_fk_signature(d[1]) for d in diffs if d[0] == "add_fk"}
    same = removed & added
    return [
        d for d in diffs if not (d[0] in ("remove_fk", "add_fk") and _fk_signature(d[1]) in same)
    ]


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert _without_unnamed_sqlite_keys(diffs, engine.dialect.name) == []
        indexes = {
            index["name"]: index for index in inspect(connection).get_indexes("conversations")
        }
        assert indexes["ix_conversations_queue"]["column_names"] == [
            "status",
            "risk_rank",
            "queued_at",
            "id",
        ]
    engine.dispose()


def test_claim_and_position_queries_use_the_queue_index(database_url, session):
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        plan = " ".join(
            str(row)
            for row in session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM conversations WHERE status = 'queued' "
                    "ORDER BY risk_rank DESC, queued_at, id LIMIT 1"
                )
            )
        )
        assert "ix_conversations_queue" in plan and "TEMP B-TREE" not in plan, plan
    else:
        session.execute(text("SET enable_seqscan = off"))
        plan = " ".join(
            row[0]
            for row in session.execute(
                text(
                    "EXPLAIN SELECT id FROM conversations WHERE status = 'queued' "
                    "ORDER BY risk_rank DESC, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
                )
            )
        )
        assert "ix_conversations_queue" in plan and "Sort" not in plan, plan
