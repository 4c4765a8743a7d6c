"""Counsellor login: tokens, lock-out after guessing, logout, and refusing default secrets."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from handoff_service.config import Settings


def login(client: TestClient, password: str, username: str = "demo"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_demo_counsellor_can_log_in_and_see_who_they_are(client: TestClient):
    token = login(client, "demo-test-password").json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == "demo" and me["role"] == "counsellor"


def test_unknown_user_and_wrong_password_answer_the_same(client: TestClient):
    wrong_password = login(client, "forkert")
    unknown_user = login(client, "forkert", username="findes-ikke")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()


def test_five_wrong_passwords_lock_the_account_for_a_while(client: TestClient):
    for _ in range(5):
        assert login(client, "gæt").status_code == 401
    assert login(client, "demo-test-password").status_code == 429


def test_logout_ends_every_token(client: TestClient):
    token = login(client, "demo-test-password").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/queue", headers=headers).status_code == 401


def test_trainer_cannot_claim_conversations(client: TestClient):
    token = login(client, "demo-test-password", username="demo-traener").json()["access_token"]
    response = client.post("/api/v1/queue/claim", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_production_refuses_the_placeholder_secret_and_demo_password():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="demo"):
        Settings(environment="production", secret_key="s" * 40, internal_api_token="t" * 40)
    Settings(
        environment="production",
        secret_key="s" * 40,
        internal_api_token="t" * 40,
        demo_counsellor_password="a-long-random-password",  # noqa: S106 - test data
    )


def test_docs_only_in_development(settings):
    from handoff_service.main import create_app

    with TestClient(create_app(settings)) as test_client:
        assert test_client.get("/docs").status_code == 404
    dev = settings.model_copy(update={"environment": "development"})
    with TestClient(create_app(dev)) as test_client:
        page = test_client.get("/docs")
        assert page.status_code == 200
        # Works offline: every script and stylesheet comes from the service itself.
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(source.startswith("/") for source in sources), sources
        for source in sources:
            assert test_client.get(source).status_code == 200, source
