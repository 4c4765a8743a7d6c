"""Sessions that last a shift (issue #13, part 2): rotating refresh tokens in an HttpOnly cookie.

Rotation, reuse detection (the family dies), logout, disable, a new password, the idle timeout
and the absolute lifetime (an injected clock, no sleeping), the cookie's attributes, tokens never
in URLs, bodies or logs, and the Danish 401s. handoff_service/refresh_tokens.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff_service.api.routes import auth as auth_routes
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.main import create_app
from handoff_service.models import RefreshToken, User
from handoff_service.refresh_tokens import COOKIE_NAME, EXPIRED, NO_REFRESH, REUSED
from handoff_service.security import hash_refresh_token
from tests.utils.service import DEMO_PASSWORD

REFRESH = "/api/v1/auth/refresh"


def login(client: TestClient, username: str = "demo") -> tuple[str, str]:
    """(access token, refresh token) of a fresh login; the client's cookie jar stays empty."""
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    refresh_token = response.cookies.get(COOKIE_NAME)
    assert refresh_token
    client.cookies.clear()
    return response.json()["access_token"], refresh_token


def refresh(client: TestClient, token: str | None):
    client.cookies.clear()
    headers = {"Cookie": f"{COOKIE_NAME}={token}"} if token else {}
    response = client.post(REFRESH, headers=headers)
    client.cookies.clear()
    return response


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock(monkeypatch) -> Callable[[timedelta], None]:
    """Moves the refresh route's clock forward (the access tokens keep the real one)."""
    shift = [timedelta(0)]
    monkeypatch.setattr(auth_routes, "clock", lambda: utcnow() + shift[0])

    def advance(by: timedelta) -> None:
        shift[0] += by

    return advance


def test_a_login_sets_the_refresh_cookie_and_the_body_holds_only_the_access_token(client):
    response = client.post(
        "/api/v1/auth/login", json={"username": "demo", "password": DEMO_PASSWORD}
    )
    refresh_token = response.cookies.get(COOKIE_NAME)
    assert refresh_token and refresh_token not in response.text
    assert set(response.json()) == {"access_token", "token_type", "role", "expires_in"}


def test_rotation_the_new_token_works_and_the_old_one_is_refused(client):
    _, first = login(client)
    response = refresh(client, first)
    assert response.status_code == 200, response.text
    second = response.cookies.get(COOKIE_NAME)
    assert second and second != first
    access = response.json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(access)).json()["username"] == "demo"
    assert refresh(client, second).status_code == 200  # the newest one goes on working
    old = refresh(client, first)
    assert old.status_code == 401


def test_reusing_a_rotated_token_kills_the_family_even_the_newest_token(client, session):
    _, first = login(client)
    second = refresh(client, first).cookies.get(COOKIE_NAME)
    reused = refresh(client, first)  # a thief (or the victim) presents the old one
    assert reused.status_code == 401
    assert reused.json() == {"detail": REUSED}
    newest = refresh(client, second)
    assert newest.status_code == 401 and newest.json() == {"detail": REUSED}
    rows = session.scalars(select(RefreshToken)).all()
    assert rows and all(row.revoked_at is not None for row in rows)


def test_another_login_of_the_same_user_survives_a_reuse_in_one_family(client):
    _, laptop = login(client)
    _, phone = login(client)
    refresh(client, laptop)
    assert refresh(client, laptop).status_code == 401
    assert refresh(client, phone).status_code == 200


def test_logout_revokes_the_family_and_clears_the_cookie(client):
    access, token = login(client)
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/logout", headers={**bearer(access), "Cookie": f"{COOKIE_NAME}={token}"}
    )
    assert response.status_code == 204
    cleared = response.headers.get("set-cookie", "")
    assert cleared.startswith(f'{COOKIE_NAME}=""') or cleared.startswith(f"{COOKIE_NAME}=;")
    assert "Path=/api/v1/auth" in cleared and "Max-Age=0" in cleared
    after = refresh(client, token)
    assert after.status_code == 401 and after.json() == {"detail": REUSED}


def test_disabling_a_user_revokes_all_their_families(client):
    _, one = login(client, "demo")
    _, two = login(client, "demo")
    admin, _ = login(client, "demo-admin")
    demo = client.get("/api/v1/users", headers=bearer(admin)).json()
    demo_id = next(user["id"] for user in demo if user["username"] == "demo")
    assert client.post(f"/api/v1/users/{demo_id}/disable", headers=bearer(admin)).status_code == 200
    assert refresh(client, one).status_code == 401
    assert refresh(client, two).status_code == 401
    # Enabled again, the old logins stay over: a new login is needed.
    assert client.post(f"/api/v1/users/{demo_id}/enable", headers=bearer(admin)).status_code == 200
    assert refresh(client, one).status_code == 401


def test_a_password_set_by_an_admin_revokes_all_their_families(client):
    _, token = login(client, "demo")
    admin, _ = login(client, "demo-admin")
    users = client.get("/api/v1/users", headers=bearer(admin)).json()
    demo_id = next(user["id"] for user in users if user["username"] == "demo")
    changed = client.patch(
        f"/api/v1/users/{demo_id}",
        json={"password": "et-helt-nyt-kodeord-1234"},
        headers=bearer(admin),
    )
    assert changed.status_code == 200, changed.text
    assert refresh(client, token).status_code == 401


def test_a_role_change_keeps_the_login_and_the_next_access_token_carries_the_new_role(client):
    _, token = login(client, "demo")
    admin, _ = login(client, "demo-admin")
    users = client.get("/api/v1/users", headers=bearer(admin)).json()
    demo_id = next(user["id"] for user in users if user["username"] == "demo")
    client.patch(f"/api/v1/users/{demo_id}", json={"role": "trainer"}, headers=bearer(admin))
    response = refresh(client, token)
    assert response.status_code == 200 and response.json()["role"] == "trainer"


def test_idle_timeout_no_refresh_for_too_long_ends_the_login(client, settings, clock):
    _, token = login(client)
    clock(timedelta(minutes=settings.staff_idle_minutes - 1))
    response = refresh(client, token)
    assert response.status_code == 200  # used in time: the idle clock starts again
    token = response.cookies.get(COOKIE_NAME)
    clock(timedelta(minutes=settings.staff_idle_minutes - 1))
    response = refresh(client, token)
    assert response.status_code == 200
    token = response.cookies.get(COOKIE_NAME)
    clock(timedelta(minutes=settings.staff_idle_minutes + 1))
    idle = refresh(client, token)
    assert idle.status_code == 401 and idle.json() == {"detail": EXPIRED}


def test_absolute_lifetime_a_shift_ends_even_when_refreshed_all_along(client, settings, clock):
    _, token = login(client)
    step = timedelta(minutes=settings.staff_idle_minutes - 10)
    lifetime = timedelta(hours=settings.staff_session_hours)
    elapsed = timedelta(0)
    while elapsed + step < lifetime:
        clock(step)
        elapsed += step
        response = refresh(client, token)
        assert response.status_code == 200, elapsed
        token = response.cookies.get(COOKIE_NAME)
    clock(lifetime - elapsed + timedelta(seconds=1))
    over = refresh(client, token)
    assert over.status_code == 401 and over.json() == {"detail": EXPIRED}


def test_the_cookie_is_httponly_samesite_strict_scoped_to_the_auth_path(client, settings):
    client.cookies.clear()
    response = client.post(
        "/api/v1/auth/login", json={"username": "demo", "password": DEMO_PASSWORD}
    )
    cookie = response.headers["set-cookie"]
    parts = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in parts
    assert "samesite=strict" in parts
    assert "path=/api/v1/auth" in parts
    assert f"max-age={int(settings.staff_session_hours * 3600)}" in parts
    assert "secure" not in parts  # test and development run on plain http://localhost


def test_the_cookie_is_secure_in_production(settings: Settings):
    production = settings.model_copy(update={"environment": "production"})
    app = create_app(production)
    with TestClient(app, base_url="https://testserver") as client:
        with app.state.session_factory() as session:
            demo = session.scalar(select(User).where(User.username == "demo"))
            if demo is None:  # production seeds no demo users
                from tests.utils.factories import make_user

                make_user(session, username="demo", password=DEMO_PASSWORD)
        response = client.post(
            "/api/v1/auth/login", json={"username": "demo", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        parts = [part.strip().lower() for part in response.headers["set-cookie"].split(";")]
        assert {"secure", "httponly", "samesite=strict", "path=/api/v1/auth"} <= set(parts)
        # The Secure cookie goes back over https: a refresh works there.
        assert client.post(REFRESH).status_code == 200


def test_the_pages_other_api_calls_never_carry_the_cookie(client):
    client.cookies.clear()
    client.post("/api/v1/auth/login", json={"username": "demo", "password": DEMO_PASSWORD})
    cookie = next(iter(client.cookies.jar))
    assert cookie.path == "/api/v1/auth"
    assert not cookie.domain_specified or cookie.domain in ("testserver", "testserver.local")


def test_without_a_cookie_or_with_a_forged_one_refresh_is_a_danish_401(client):
    for token in (None, "forfalsket", "x" * 500):
        response = refresh(client, token)
        assert response.status_code == 401
        assert response.json() == {"detail": NO_REFRESH}
    # A bearer token is not a refresh token.
    access, _ = login(client)
    client.cookies.clear()
    assert client.post(REFRESH, headers=bearer(access)).status_code == 401


def test_only_the_hash_is_stored_and_no_token_is_in_a_url_a_body_or_a_log(client, session, caplog):
    caplog.set_level(logging.DEBUG)
    access, first = login(client)
    rotated = refresh(client, first)
    second = rotated.cookies.get(COOKIE_NAME)
    refresh(client, first)  # reuse: logged as a warning, without the token
    stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert hash_refresh_token(first) in stored and first not in stored and second not in stored
    for token in (first, second):
        assert token not in caplog.text
        assert token not in rotated.text
    assert access not in caplog.text
    assert "refresh token reused" in caplog.text
    paths = client.app.openapi()["paths"]
    for path, operations in paths.items():  # no token of any kind in a path or a query
        assert "token" not in path.lower()
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                assert "token" not in parameter["name"].lower(), (path, parameter)
    assert "parameters" not in paths[REFRESH]["post"]


def test_reuse_is_in_the_audit_trail_without_the_token(client):
    _, first = login(client)
    refresh(client, first)
    refresh(client, first)
    admin, _ = login(client, "demo-admin")
    trail = client.get("/api/v1/audit", headers=bearer(admin))
    assert trail.status_code == 200, trail.text
    assert "refresh_token_reused" in trail.text and first not in trail.text


def test_a_refresh_token_s_expiry_never_outlives_the_family(client, session, settings, clock):
    _, token = login(client)
    step = timedelta(minutes=settings.staff_idle_minutes - 10)
    lifetime = timedelta(hours=settings.staff_session_hours)
    elapsed = timedelta(0)
    while elapsed + step < lifetime:
        clock(step)
        elapsed += step
        token = refresh(client, token).cookies.get(COOKIE_NAME)
    clock(lifetime - elapsed - timedelta(minutes=1))  # the last minute of the shift
    assert refresh(client, token).status_code == 200
    newest = session.scalars(select(RefreshToken).where(RefreshToken.revoked_at.is_(None))).one()
    assert newest.expires_at == newest.family_expires_at
    assert isinstance(newest.expires_at, datetime)


def test_an_idle_timeout_not_longer_than_the_access_token_is_refused():
    with pytest.raises(ValueError, match="STAFF_IDLE_MINUTES"):
        Settings(environment="test", access_token_minutes=30, staff_idle_minutes=30)
