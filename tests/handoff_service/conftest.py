"""One fresh app and database per test; Rasa points at a closed port unless a test says otherwise."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.main import create_app

INTERNAL_TOKEN = "internal-test-token-" + "x" * 20


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'handoff.db'}",
        rasa_url=f"http://127.0.0.1:{closed_port()}",
        rasa_timeout_seconds=2,
        internal_api_token=INTERNAL_TOKEN,
        secret_key="test-secret-" + "y" * 32,
        demo_counsellor_password="demo-test-password",
        seed_demo_data=True,
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
    response = client.post("/api/v1/auth/login", json={"username": "demo", "password": "demo-test-password"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def internal_headers() -> dict[str, str]:
    return {"X-Internal-Token": INTERNAL_TOKEN}


def start(client: TestClient) -> tuple[str, dict[str, str], dict]:
    response = client.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}, body
