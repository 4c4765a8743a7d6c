"""Alembic environment: uses the engine the service passes in, else DATABASE_URL."""

from __future__ import annotations

from alembic import context

from handoff_service import models  # noqa: F401 - registers the tables
from handoff_service.db import Base, make_engine

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from handoff_service.config import get_settings

        engine = make_engine(get_settings().database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
