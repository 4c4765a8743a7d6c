"""The handoff service in-process (FastAPI TestClient): test settings, database, login, a start."""

from __future__ import annotations

import os
import socket
from functools import lru_cache

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

INTERNAL_TOKEN = "internal-test-token-" + "x" * 20
DEMO_PASSWORD = "demo-test-password"  # noqa: S105 - test data


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, or under pytest-xdist (`-n 2`) a database of the worker's own on the
    same server, so two workers never drop each other's schema."""
    url = os.environ.get("TEST_DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if url and worker else url


@lru_cache
def _worker_database(url: str, worker: str) -> str:
    own = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    with _admin_engine(url).connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    return own.render_as_string(hide_password=False)


@lru_cache
def _admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)


def reset_postgres_schema(url: str) -> None:
    with _admin_engine(url).connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def login_headers(
    client: TestClient, username: str, password: str = DEMO_PASSWORD
) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def start(client: TestClient) -> tuple[str, dict[str, str], dict]:
    response = client.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}, body
