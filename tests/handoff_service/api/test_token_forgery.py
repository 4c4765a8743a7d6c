"""No forgeable secret: development and test generate their own; malformed tokens are 401."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from handoff_service.config import PLACEHOLDER_SECRET, Settings
from handoff_service.db import utcnow
from handoff_service.security import create_access_token
from tests.utils.tokens import b64, bearer, signed

STAFF_ROUTES = (
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/queue"),
    ("POST", "/api/v1/queue/claim"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/shifts"),
    ("GET", "/api/v1/audit"),
)


@pytest.fixture(autouse=True)
def no_secret_in_environment(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)


@pytest.mark.parametrize("environment", ["development", "test"])
@pytest.mark.parametrize("given", [{}, {"secret_key": PLACEHOLDER_SECRET}, {"secret_key": ""}])
def test_without_a_secret_one_is_generated_once_and_kept_private(tmp_path, environment, given):
    path = tmp_path / "var" / "secret_key"
    first = Settings(environment=environment, secret_key_path=path, **given)
    assert first.secret_key != PLACEHOLDER_SECRET and len(first.secret_key) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = Settings(environment=environment, secret_key_path=path, **given)
    assert again.secret_key == first.secret_key  # kept: tokens and pickup codes survive a restart
    other = Settings(environment=environment, secret_key_path=tmp_path / "other")
    assert other.secret_key != first.secret_key


def test_a_set_secret_is_used_and_nothing_is_written(tmp_path):
    path = tmp_path / "secret_key"
    settings = Settings(environment="development", secret_key="z" * 40, secret_key_path=path)
    assert settings.secret_key == "z" * 40 and not path.exists()


def test_production_with_the_placeholder_still_refuses_to_start(tmp_path):
    path = tmp_path / "secret_key"
    for secret in (PLACEHOLDER_SECRET, ""):
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(environment="production", secret_key=secret, secret_key_path=path)
    assert not path.exists()


def test_a_token_signed_with_the_published_placeholder_is_refused(client: TestClient):
    forged = create_access_token(
        user_id=1,
        role="admin",
        token_version=0,
        secret=PLACEHOLDER_SECRET,
        minutes=30,
        now=utcnow(),
    )
    assert client.get("/api/v1/users", headers=bearer(forged)).status_code == 401


def malformed_tokens(settings: Settings) -> dict[str, str]:
    none_alg = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': '1', 'exp': 2**40})}."
    return {
        "huge sub": signed(settings, sub="9" * 5000),
        "sub past 32 bits": signed(settings, sub=str(2**31)),
        "negative sub": signed(settings, sub="-1"),
        "sub with a sign": signed(settings, sub="+1"),
        "sub not a number": signed(settings, sub="admin"),
        "sub a float": signed(settings, sub="1.0"),
        "sub zero-padded": signed(settings, sub="01"),
        "sub unicode digits": signed(settings, sub="١"),
        "no sub": signed(settings, sub=None),
        "expired": signed(settings, exp=utcnow() - timedelta(minutes=1)),
        "alg none": none_alg,
        "alg none with a signature": none_alg + "c2lnbmF0dXJl",
        "wrong key": jwt.encode({"sub": "1", "exp": 2**40}, "x" * 40, algorithm="HS256"),
        "garbage": "not-a-token",
        "three garbage parts": "a.b.c",
        "bad base64": "!!!.###.$$$",
        "header not json": f"{b64(b'not json')}.{b64({'sub': '1'})}.sig",
        "payload a list": f"{b64({'alg': 'HS256'})}.{b64(b'[1, 2]')}.sig",
        "huge garbage": "A" * 200_000,
        "huge three parts": ".".join(["B" * 70_000] * 3),
    }


def test_malformed_tokens_of_any_size_are_401_never_5xx(client: TestClient, settings):
    for name, token in malformed_tokens(settings).items():
        for method, path in STAFF_ROUTES:
            response = client.request(method, path, headers=bearer(token))
            assert response.status_code == 401, (name, path, response.status_code)
            assert response.json()["detail"].startswith("Du er ikke logget ind"), name


def test_a_well_formed_token_still_works(client: TestClient):
    admin = client.post(
        "/api/v1/auth/login", json={"username": "demo-admin", "password": "demo-test-password"}
    ).json()["access_token"]
    assert client.get("/api/v1/users", headers=bearer(admin)).status_code == 200
