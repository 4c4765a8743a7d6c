"""Fixtures of the fault tests: a fresh PostgreSQL database and a fake Rasa (helpers in
tests/faults/support.py).

Nothing here is autouse: a test asks for `fault_database` or `fake_rasa` by name. Without
TEST_DATABASE_URL (scripts/postgres.sh start) the tests that need PostgreSQL are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.faults.support import Database, FakeRasa


@pytest.fixture
def fault_database() -> Iterator[Database]:
    """A new, empty database in the cluster TEST_DATABASE_URL points at, dropped afterwards, so
    a fault test never touches the schema another test run uses."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs PostgreSQL: TEST_DATABASE_URL=$(bash scripts/postgres.sh start)")
    name = f"faults_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    with admin.connect() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Database(make_url(url).set(database=name).render_as_string(False))
    finally:
        try:
            with admin.connect() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error:
            pass  # the cluster is gone (the run's `postgres.sh stop` deletes it anyway)


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    try:
        yield fake
    finally:
        fake.close()
