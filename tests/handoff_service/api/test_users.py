"""Admin user management: new staff can log in, a disabled user is out at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils.factories import make_queued_conversation
from tests.utils.service import login_headers

NEW_PASSWORD = "et-langt-kodeord-2026"  # noqa: S105 - test data


def create(client: TestClient, admin_headers, username: str = "sara", role: str = "counsellor"):
    return client.post(
        "/api/v1/users",
        json={"username": username, "password": NEW_PASSWORD, "role": role},
        headers=admin_headers,
    )


def test_admin_creates_a_counsellor_who_can_log_in_and_claim(
    client: TestClient, session, admin_headers
):
    created = create(client, admin_headers, username=" Sara.H ")
    assert created.status_code == 201, created.text
    assert created.json()["username"] == "sara.h" and created.json()["is_active"] is True
    make_queued_conversation(session)
    headers = login_headers(client, "Sara.H", NEW_PASSWORD)
    assert client.post("/api/v1/queue/claim", headers=headers).status_code == 200
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=admin_headers).json()}
    assert {"demo", "demo-admin", "demo-traener", "sara.h"} <= listed.keys()
    assert "password_hash" not in listed["sara.h"]


def test_disabling_ends_the_session_at_once_and_frees_held_conversations(
    client: TestClient, session, admin_headers
):
    user_id = create(client, admin_headers).json()["id"]
    headers = login_headers(client, "sara", NEW_PASSWORD)
    held = make_queued_conversation(session)
    assert client.post("/api/v1/queue/claim", headers=headers).json()["id"] == held.id
    disabled = client.post(f"/api/v1/users/{user_id}/disable", headers=admin_headers)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert client.get("/api/v1/queue", headers=headers).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "sara", "password": NEW_PASSWORD}
        ).status_code
        == 401
    )
    queue = client.get("/api/v1/queue", headers=admin_headers).json()
    assert [item["id"] for item in queue] == [held.id], (
        "the young person is back in the queue, not stranded"
    )
    client.post(f"/api/v1/users/{user_id}/enable", headers=admin_headers)
    assert login_headers(client, "sara", NEW_PASSWORD)


def test_role_or_password_change_also_ends_old_tokens(client: TestClient, admin_headers):
    user_id = create(client, admin_headers).json()["id"]
    headers = login_headers(client, "sara", NEW_PASSWORD)
    changed = client.patch(
        f"/api/v1/users/{user_id}", json={"role": "trainer"}, headers=admin_headers
    )
    assert changed.json()["role"] == "trainer"
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    trainer = login_headers(client, "sara", NEW_PASSWORD)
    assert client.post("/api/v1/queue/claim", headers=trainer).status_code == 403
    client.patch(
        f"/api/v1/users/{user_id}", json={"password": "et-helt-nyt-kodeord"}, headers=admin_headers
    )
    assert client.get("/api/v1/auth/me", headers=trainer).status_code == 401
    assert login_headers(client, "sara", "et-helt-nyt-kodeord")


def test_admin_can_unlock_a_locked_account(client: TestClient, admin_headers):
    user_id = create(client, admin_headers).json()["id"]
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "sara", "password": "forkert"})
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "sara", "password": NEW_PASSWORD}
        ).status_code
        == 429
    )
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin_headers).json()}
    assert users["sara"]["locked"] is True
    client.patch(f"/api/v1/users/{user_id}", json={"unlock": True}, headers=admin_headers)
    assert login_headers(client, "sara", NEW_PASSWORD)


def test_bad_new_users_are_refused_with_a_reason(client: TestClient, admin_headers):
    assert create(client, admin_headers).status_code == 201
    duplicate = create(client, admin_headers, username="SARA")
    assert duplicate.status_code == 409 and "taget" in duplicate.json()["detail"]
    cases = [
        ({"username": "ok-navn", "password": "kort", "role": "counsellor"}, "mindst 12"),
        ({"username": "x", "password": NEW_PASSWORD, "role": "counsellor"}, "mindst 3"),
        (
            {"username": "med mellemrum", "password": NEW_PASSWORD, "role": "counsellor"},
            "små bogstaver",
        ),
        ({"username": "ok-navn", "password": NEW_PASSWORD, "role": "superuser"}, "role"),
        ({"username": "ok-navn", "password": NEW_PASSWORD}, "mangler"),
    ]
    for body, reason in cases:
        response = client.post("/api/v1/users", json=body, headers=admin_headers)
        assert response.status_code == 422, (body, response.text)
        assert reason in response.json()["detail"], (body, response.json())


def test_the_last_admin_cannot_lock_themself_out(client: TestClient, admin_headers):
    me = client.get("/api/v1/auth/me", headers=admin_headers).json()
    response = client.post(f"/api/v1/users/{me['id']}/disable", headers=admin_headers)
    assert response.status_code == 409 and "admin" in response.json()["detail"]
    demoted = client.patch(
        f"/api/v1/users/{me['id']}", json={"role": "counsellor"}, headers=admin_headers
    )
    assert demoted.status_code == 409
    assert client.get("/api/v1/auth/me", headers=admin_headers).status_code == 200


def test_only_admins_manage_users(client: TestClient, counsellor_headers, trainer_headers):
    for headers in (counsellor_headers, trainer_headers):
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert (
            client.post(
                "/api/v1/users",
                json={"username": "ny", "password": NEW_PASSWORD, "role": "admin"},
                headers=headers,
            ).status_code
            == 403
        )
    assert client.post("/api/v1/users/1/disable").status_code == 401


def test_unknown_user_is_404(client: TestClient, admin_headers):
    assert client.post("/api/v1/users/4242/disable", headers=admin_headers).status_code == 404
    assert client.patch(f"/api/v1/users/{2**33}", json={}, headers=admin_headers).status_code == 422
