"""Server-Sent Events: the dashboard hears of every handoff at once, critical ones marked, and
each waiting young person gets a new position and expected wait on every queue change."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.utils.factories import make_queued_conversation, minutes_ago
from tests.utils.service import start
from tests.utils.sse import listen


def test_dashboard_is_told_of_a_critical_handoff_at_once(
    client: TestClient, counsellor_headers, internal_headers
):
    conversation_id, _headers, _ = start(client)
    with listen(client, "/api/v1/queue/events", counsellor_headers) as dashboard:
        assert dashboard.next_of("queue") == {
            "reason": "connected",
            "conversation_id": None,
            "organisation_id": None,
            "previous_organisation_id": None,
            "status": None,
            "risk": None,
            "critical": False,
            "topic": None,
            "waiting_count": 0,
        }
        client.post(
            f"/internal/v1/conversations/{conversation_id}/handoff",
            json={"risk": "critical", "topic": "suicidal", "intents": ["suicidal"]},
            headers=internal_headers,
        )
        event = dashboard.next_of("queue")
    assert event["reason"] == "handoff" and event["conversation_id"] == conversation_id
    assert event["risk"] == "critical" and event["critical"] is True
    assert event["waiting_count"] == 1


def test_dashboard_hears_of_an_ordinary_handoff_unmarked(client: TestClient, counsellor_headers):
    conversation_id, headers, _ = start(client)
    with listen(client, "/api/v1/queue/events", counsellor_headers) as dashboard:
        assert dashboard.next_of("queue")["reason"] == "connected"
        client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
        event = dashboard.next_of("queue")
    assert (event["reason"], event["critical"], event["risk"]) == ("handoff", False, "normal")


def test_waiting_young_person_is_pushed_a_new_place_on_claim(
    client: TestClient, session, counsellor_headers
):
    make_queued_conversation(session, queued_at=minutes_ago(30))
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        snapshot = stream.next_of("status")
        assert snapshot["queue"]["position"] == 2
        client.post("/api/v1/queue/claim", headers=counsellor_headers)
        pushed = stream.next_of("queue")
    assert pushed["queue"]["position"] == 1
    assert pushed["queue"]["waiting_count"] == 1


def test_raised_risk_of_another_moves_the_young_person_back(
    client: TestClient, session, internal_headers
):
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    later_id, later_headers, _ = start(client)
    client.post(f"/api/v1/conversations/{later_id}/handoff", headers=later_headers)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        assert stream.next_of("status")["queue"]["position"] == 1
        client.post(
            f"/internal/v1/conversations/{later_id}/triage",
            json={"risk": "critical", "intents": ["immediate_danger"]},
            headers=internal_headers,
        )
        assert stream.next_of("queue")["queue"]["position"] == 2


def test_release_and_close_push_new_places(client: TestClient, session, counsellor_headers):
    first = make_queued_conversation(session, queued_at=minutes_ago(30))
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    claimed = client.post("/api/v1/queue/claim", headers=counsellor_headers).json()
    assert claimed["id"] == first.id
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        assert stream.next_of("status")["queue"]["position"] == 1
        client.post(f"/api/v1/conversations/{first.id}/release", headers=counsellor_headers)
        assert stream.next_of("queue")["queue"]["position"] == 2
        client.post("/api/v1/queue/claim", headers=counsellor_headers)
        assert stream.next_of("queue")["queue"]["position"] == 1
        client.post(
            f"/api/v1/conversations/{first.id}/close",
            json={"outcome": "talked"},
            headers=counsellor_headers,
        )
        assert stream.next_of("queue")["queue"]["position"] == 1  # new handling time, same place


def test_young_person_sees_the_counsellor_arrive_and_answer(client: TestClient, counsellor_headers):
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        stream.next_of("status")
        client.post("/api/v1/queue/claim", headers=counsellor_headers)
        assert stream.next_of("status")["status"] == "active"
        client.post(
            f"/api/v1/conversations/{conversation_id}/reply",
            json={"text": "Hej, jeg er her nu."},
            headers=counsellor_headers,
        )
        message = stream.next_of("message")
    assert message["sender"] == "counsellor" and message["text"] == "Hej, jeg er her nu."


def test_events_need_the_right_token(client: TestClient):
    conversation_id, _headers, _ = start(client)
    response = client.get(
        f"/api/v1/conversations/{conversation_id}/events", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 404
    assert client.get("/api/v1/queue/events").status_code == 401
