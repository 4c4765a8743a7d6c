"""Rate limits: per conversation for messages, per service for new conversations and logins."""

from __future__ import annotations

from fastapi.testclient import TestClient

from handoff_service.main import create_app
from handoff_service.ratelimit import RateLimiter
from tests.utils.service import start


def test_thirty_messages_a_minute_then_a_danish_429(client: TestClient):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    for number in range(30):
        assert (
            client.post(url, json={"text": f"besked {number}"}, headers=headers).status_code == 200
        )
    refused = client.post(url, json={"text": "en til"}, headers=headers)
    assert refused.status_code == 429
    assert "Vent et øjeblik" in refused.json()["detail"] and "112" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    stored = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
        "messages"
    ]
    assert "en til" not in [m["text"] for m in stored]
    # Another young person is not affected.
    other_id, other_headers, _ = start(client)
    assert (
        client.post(
            f"/api/v1/conversations/{other_id}/messages",
            json={"text": "hej"},
            headers=other_headers,
        ).status_code
        == 200
    )


def test_a_retry_of_a_stored_message_is_answered_even_at_the_limit(client: TestClient):
    """The limit counts messages, not attempts: the page's retry after a lost answer gets the
    first turn back, also when the young person has just written their 30th message."""
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    for number in range(30):
        retry = {**headers, "Idempotency-Key": f"besked-{number}"}
        assert client.post(url, json={"text": f"besked {number}"}, headers=retry).status_code == 200
    again = client.post(
        url, json={"text": "besked 29"}, headers={**headers, "Idempotency-Key": "besked-29"}
    )
    assert again.status_code == 200
    assert client.post(url, json={"text": "ny besked"}, headers=headers).status_code == 429
    young = [
        m["text"]
        for m in client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
            "messages"
        ]
        if m["sender"] == "young"
    ]
    assert young.count("besked 29") == 1 and "ny besked" not in young


def test_service_wide_login_ceiling(settings):
    app = create_app(settings.model_copy(update={"login_attempts_per_minute": 3}))
    with TestClient(app) as client:
        answers = [
            client.post(
                "/api/v1/auth/login", json={"username": f"gæt{n}", "password": "x"}
            ).status_code
            for n in range(4)
        ]
        assert answers == [401, 401, 401, 429]
        refused = client.post(
            "/api/v1/auth/login", json={"username": "demo", "password": "demo-test-password"}
        )
        assert refused.status_code == 429 and "loginforsøg" in refused.json()["detail"]


def test_service_wide_ceiling_on_new_conversations(settings):
    app = create_app(settings.model_copy(update={"conversation_starts_per_minute": 2}))
    with TestClient(app) as client:
        assert [client.post("/api/v1/conversations").status_code for _ in range(3)] == [
            201,
            201,
            429,
        ]
        assert "112" in client.post("/api/v1/conversations").json()["detail"]


def test_limiter_window_slides():
    now = [0.0]
    limiter = RateLimiter(limit=2, window_seconds=60, clock=lambda: now[0])
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 60.0
    assert limiter.hit("b") is None
    now[0] = 59.9
    assert limiter.hit("a") is not None
    now[0] = 60.1
    assert limiter.hit("a") is None
