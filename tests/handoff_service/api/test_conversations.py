"""The young person's API: greeting, writing, bad input, and what happens when Rasa is down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from handoff_service.main import create_app
from tests.utils.service import start


def test_start_returns_token_and_a_danish_greeting_even_without_the_bot(client: TestClient):
    conversation_id, _headers, body = start(client)
    assert body["status"] == "bot"
    assert len(body["token"]) >= 32
    greeting = " ".join(m["text"] for m in body["messages"])
    assert "anonym" in greeting and "112" in greeting
    assert all(m["sender"] == "bot" for m in body["messages"])


def test_rasa_down_message_is_stored_answered_with_112_and_queued(client: TestClient):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "min far er stiv igen"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    turn = response.json()
    reply = " ".join(m["text"] for m in turn["messages"])
    assert "112" in reply and "rådgiver" in reply
    assert turn["status"] == "queued"
    assert turn["queue"]["position"] == 1
    transcript = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    assert [m["text"] for m in transcript["messages"] if m["sender"] == "young"] == [
        "min far er stiv igen"
    ]


def test_crisis_words_reach_the_front_of_the_queue_without_the_bot(client: TestClient):
    first_id, first_headers, _ = start(client)
    client.post(
        f"/api/v1/conversations/{first_id}/messages",
        json={"text": "hjælp til lektier"},
        headers=first_headers,
    )
    crisis_id, crisis_headers, _ = start(client)
    turn = client.post(
        f"/api/v1/conversations/{crisis_id}/messages",
        json={"text": "jeg vil ikke leve mere"},
        headers=crisis_headers,
    ).json()
    assert turn["queue"]["position"] == 1
    state = client.get(f"/api/v1/conversations/{crisis_id}", headers=crisis_headers).json()
    assert state["risk"] == "critical"
    others = client.get(f"/api/v1/conversations/{first_id}", headers=first_headers).json()
    assert others["queue"]["position"] == 2


def test_bad_input_gets_a_short_reason_and_stores_nothing(client: TestClient):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    cases = [
        ({"json": {"text": ""}}, 422, "tom"),
        ({"json": {"text": "   \n\t "}}, 422, "tom"),
        ({"json": {"text": "a" * 2001}}, 422, "for lang"),
        (
            {"content": b"{not json", "headers": {**headers, "Content-Type": "application/json"}},
            422,
            "JSON",
        ),
        ({"json": {"tekst": "hej"}}, 422, "mangler"),
        ({"json": ["hej"]}, 422, ""),
    ]
    for kwargs, status, reason in cases:
        kwargs.setdefault("headers", headers)
        response = client.post(url, **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        assert reason in response.json()["detail"]
    messages = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
        "messages"
    ]
    assert not [m for m in messages if m["sender"] == "young"]


def test_exactly_2000_characters_is_accepted(client: TestClient):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "ø" * 2000},
        headers=headers,
    )
    assert response.status_code == 200


def test_oversized_body_is_refused_before_parsing(client: TestClient):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        content=b'{"text": "' + b"a" * 100_000 + b'"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_wrong_token_and_unknown_id_answer_the_same(client: TestClient):
    conversation_id, _headers, _ = start(client)
    wrong = client.get(
        f"/api/v1/conversations/{conversation_id}", headers={"Authorization": "Bearer forkert"}
    )
    unknown = client.get(
        "/api/v1/conversations/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": "Bearer forkert"},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()
    missing = client.get(f"/api/v1/conversations/{conversation_id}")
    assert missing.status_code == 401


def test_control_characters_are_removed_and_unicode_normalised(client: TestClient):
    conversation_id, headers, _ = start(client)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "hej\u0000 med\u200b dig a\u030a"},
        headers=headers,
    )
    young = [
        m
        for m in client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
            "messages"
        ]
        if m["sender"] == "young"
    ]
    assert young[0]["text"] == "hej med dig å"


def test_restart_loses_nothing(settings):
    with TestClient(create_app(settings)) as first:
        conversation_id, headers, _ = start(first)
        first.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "er der nogen?"},
            headers=headers,
        )
        before = first.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    with TestClient(create_app(settings)) as second:
        after = second.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    assert after == before
    assert after["status"] == "queued"


def test_young_person_can_ask_for_a_counsellor_with_the_button(client: TestClient):
    conversation_id, headers, _ = start(client)
    turn = client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers).json()
    assert turn["status"] == "queued"
    assert turn["queue"]["position"] == 1
    assert turn["messages"] and "kø" in turn["messages"][0]["text"]
