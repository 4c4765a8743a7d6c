"""The counsellor's workflow: queue order, claiming, replying, releasing and closing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils.factories import make_queued_conversation, minutes_ago
from tests.utils.service import start


def test_handoff_positions_count_up_in_arrival_order(client: TestClient, internal_headers):
    ids = []
    for _ in range(3):
        conversation_id, headers, _ = start(client)
        turn = client.post(
            f"/internal/v1/conversations/{conversation_id}/handoff",
            json={"intents": ["request_human"], "reason": "request_human"},
            headers=internal_headers,
        ).json()
        ids.append((conversation_id, headers))
        assert turn["status"] == "queued"
    positions = [
        client.get(f"/api/v1/conversations/{cid}", headers=h).json()["queue"]["position"]
        for cid, h in ids
    ]
    assert positions == [1, 2, 3]


def test_internal_api_refuses_without_the_shared_token(client: TestClient):
    conversation_id, _headers, _ = start(client)
    response = client.post(f"/internal/v1/conversations/{conversation_id}/handoff", json={})
    assert response.status_code == 403
    assert (
        client.get("/internal/v1/service-status", headers={"X-Internal-Token": "wrong"}).status_code
        == 403
    )


def test_queue_is_risk_first_then_waiting_time(client: TestClient, session, counsellor_headers):
    normal_old = make_queued_conversation(
        session, risk="normal", queued_at=minutes_ago(60), topic="parent_alcohol"
    )
    high = make_queued_conversation(session, risk="high", queued_at=minutes_ago(30))
    critical_new = make_queued_conversation(session, risk="critical", queued_at=minutes_ago(1))
    normal_new = make_queued_conversation(session, risk="normal", queued_at=minutes_ago(5))
    queue = client.get("/api/v1/queue", headers=counsellor_headers).json()
    assert [item["id"] for item in queue] == [
        critical_new.id,
        high.id,
        normal_old.id,
        normal_new.id,
    ]
    assert queue[0]["risk"] == "critical" and queue[0]["risk_label"] == "Kritisk"
    assert queue[2]["waiting_minutes"] >= 59
    assert "Forælder drikker" in queue[2]["summary"]


def test_claim_takes_the_most_urgent_and_204_when_empty(
    client: TestClient, session, counsellor_headers
):
    make_queued_conversation(session, risk="normal", queued_at=minutes_ago(10))
    critical = make_queued_conversation(session, risk="critical", queued_at=minutes_ago(1))
    claimed = client.post("/api/v1/queue/claim", headers=counsellor_headers)
    assert claimed.status_code == 200
    assert claimed.json()["id"] == critical.id
    assert claimed.json()["status"] == "active"
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 200
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 204


def test_counsellor_reply_reaches_the_young_person(
    client: TestClient, internal_headers, counsellor_headers
):
    conversation_id, headers, _ = start(client)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "min mor drikker"},
        headers=headers,
    )
    claimed = client.post("/api/v1/queue/claim", headers=counsellor_headers).json()
    assert claimed["id"] == conversation_id
    senders = [m["sender"] for m in claimed["messages"]]
    assert "young" in senders and "bot" in senders
    reply = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "Hej, jeg hedder Sara og er rådgiver."},
        headers=counsellor_headers,
    )
    assert reply.status_code == 200
    state = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    assert state["status"] == "active"
    assert state["messages"][-1] == {**reply.json()}
    # While a counsellor has it, the young person's messages go to the counsellor, not the bot.
    turn = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "tak"}, headers=headers
    ).json()
    assert turn["messages"] == [] and turn["status"] == "active"
    closed = client.post(
        f"/api/v1/conversations/{conversation_id}/close",
        json={"outcome": "talked"},
        headers=counsellor_headers,
    )
    assert closed.json()["status"] == "closed"
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()["status"]
        == "closed"
    )


def test_release_puts_it_back_at_its_original_place(
    client: TestClient, session, counsellor_headers
):
    first = make_queued_conversation(session, queued_at=minutes_ago(20))
    make_queued_conversation(session, queued_at=minutes_ago(10))
    claimed = client.post("/api/v1/queue/claim", headers=counsellor_headers).json()
    assert claimed["id"] == first.id
    client.post(f"/api/v1/conversations/{first.id}/release", headers=counsellor_headers)
    queue = client.get("/api/v1/queue", headers=counsellor_headers).json()
    assert queue[0]["id"] == first.id


def test_only_the_claiming_counsellor_can_reply(client: TestClient, session, counsellor_headers):
    from tests.utils.factories import make_user

    conversation = make_queued_conversation(session)
    make_user(session, "anden", password="andet-kodeord-123")  # noqa: S106 - test data
    other = client.post(
        "/api/v1/auth/login", json={"username": "anden", "password": "andet-kodeord-123"}
    ).json()
    client.post("/api/v1/queue/claim", headers=counsellor_headers)
    response = client.post(
        f"/api/v1/conversations/{conversation.id}/reply",
        json={"text": "hej"},
        headers={"Authorization": f"Bearer {other['access_token']}"},
    )
    assert response.status_code == 409


def test_queue_needs_a_counsellor_login(client: TestClient):
    assert client.get("/api/v1/queue").status_code == 401
    assert (
        client.post(
            "/api/v1/queue/claim", headers={"Authorization": "Bearer not-a-jwt"}
        ).status_code
        == 401
    )


def test_risk_never_goes_down(client: TestClient, internal_headers):
    conversation_id, headers, _ = start(client)
    client.post(
        f"/internal/v1/conversations/{conversation_id}/handoff",
        json={"risk": "critical", "intents": ["suicidal"]},
        headers=internal_headers,
    )
    client.post(
        f"/internal/v1/conversations/{conversation_id}/triage",
        json={"risk": "normal", "intents": ["thank"]},
        headers=internal_headers,
    )
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()["risk"]
        == "critical"
    )


def test_the_summary_names_the_kind_of_danger_the_bot_answered(
    client: TestClient, session, counsellor_headers
):
    conversation_id, _headers, _ = start(client)
    response = client.post(
        f"/internal/v1/conversations/{conversation_id}/handoff",
        json={
            "risk": "critical",
            "intents": ["immediate_danger"],
            "entities": {"danger": ["overdose"], "carer": ["mor"]},
            "reason": "crisis",
        },
        headers={"X-Internal-Token": client.app.state.settings.internal_api_token},
    )
    assert response.status_code == 200, response.text
    queue = client.get("/api/v1/queue", headers=counsellor_headers).json()
    mine = next(item for item in queue if item["id"] == conversation_id)
    assert "fare: overdosis eller forgiftning" in mine["summary"]
    assert "overdose" not in mine["summary"]  # Danish labels, never the ids
