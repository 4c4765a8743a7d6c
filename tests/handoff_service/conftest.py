"""One fresh app and database per test; Rasa points at a closed port unless a test says otherwise.

Fixtures and hooks only: the helpers (start, login_headers, the test passwords) are in
tests/utils/service.py.

The database is SQLite in a temporary folder, or PostgreSQL when TEST_DATABASE_URL is set (see
scripts/postgres.sh): then every test starts from an empty `public` schema, and the service's
own migrations build it, exactly as at a production start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.main import create_app
from tests.utils.service import (
    DEMO_PASSWORD,
    INTERNAL_TOKEN,
    closed_port,
    login_headers,
    postgres_url,
    reset_postgres_schema,
)


def pytest_collection_modifyitems(config, items) -> None:
    if postgres_url():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL: TEST_DATABASE_URL=$(scripts/postgres.sh start)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config) -> str:
    url = postgres_url()
    return (
        f"handoff_service database: {'PostgreSQL ' + url.rsplit('@', 1)[-1] if url else 'SQLite'}"
    )


@pytest.fixture
def database_url(tmp_path) -> str:
    url = postgres_url()
    if url is None:
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    reset_postgres_schema(url)
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        rasa_url=f"http://127.0.0.1:{closed_port()}",
        rasa_timeout_seconds=2,
        internal_api_token=INTERNAL_TOKEN,
        secret_key="test-secret-" + "y" * 32,
        demo_counsellor_password=DEMO_PASSWORD,
        seed_demo_data=True,
        # Tests drive the jobs themselves (tests/handoff_service/test_retention.py).
        background_jobs=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def session(client: TestClient) -> Iterator[Session]:
    with client.app.state.session_factory() as db_session:
        yield db_session


@pytest.fixture
def counsellor_headers(client: TestClient) -> dict[str, str]:
    return login_headers(client, "demo")


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return login_headers(client, "demo-admin")


@pytest.fixture
def trainer_headers(client: TestClient) -> dict[str, str]:
    return login_headers(client, "demo-traener")


@pytest.fixture
def internal_headers() -> dict[str, str]:
    return {"X-Internal-Token": INTERNAL_TOKEN}
