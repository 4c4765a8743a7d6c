"""Runs the Alembic migrations at start-up, so every database is at the current schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

#: The advisory lock key of start-up (migrations and the development seed), any number unique
#: to this service (handoff_service/job_lock.py uses its own per job).
STARTUP_LOCK = 726_001

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, one process at a time migrates and seeds: several service processes
    started at once wait for each other instead of racing on the schema or the demo users.
    The lock is a session lock on its own connection, released when the block ends (or by the
    server if the process dies)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK})
