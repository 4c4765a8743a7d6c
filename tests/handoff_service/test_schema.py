"""Migrations build exactly the schema the models describe; the queue index serves the queue."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from handoff_service.db import Base, make_engine
from handoff_service.migrations import upgrade_database


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
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
