"""POST /api/v1/conversations/{id}/feedback: the young person's anonymous answers, once, when
the conversation is over (docs/statistics.md)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from handoff_service.models import Conversation, StatCell
from tests.utils.service import start

ALREADY = "Du har allerede svaret. Tak!"
NOT_OVER = "Du kan svare, når samtalen er slut."


def close_as_counsellor(client, conversation_id: str, counsellor_headers) -> None:
    claimed = client.post("/api/v1/queue/claim", headers=counsellor_headers)
    assert claimed.status_code == 200 and claimed.json()["id"] == conversation_id
    reply = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "Hej, jeg er her"},
        headers=counsellor_headers,
    )
    assert reply.status_code == 200
    closed = client.post(
        f"/api/v1/conversations/{conversation_id}/close",
        json={"outcome": "talked"},
        headers=counsellor_headers,
    )
    assert closed.status_code == 200


def feedback_cells(session) -> dict[tuple[str, str], int]:
    session.expire_all()
    return {
        (c.metric, c.category): c.count
        for c in session.scalars(select(StatCell).where(StatCell.metric.like("feedback_%")))
        if c.count
    }


def test_feedback_after_a_counsellor_closed_once_then_409(
    client, session, counsellor_headers, caplog
):
    conversation_id, young, _ = start(client)
    assert client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young)
    url = f"/api/v1/conversations/{conversation_id}/feedback"
    early = client.post(url, json={"helped": "ja"}, headers=young)
    assert (early.status_code, early.json()["detail"]) == (409, NOT_OVER)
    close_as_counsellor(client, conversation_id, counsellor_headers)
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()[
            "feedback_given"
        ]
        is False
    )
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            url, json={"helped": "lidt", "write_again": "maaske", "rating": 5}, headers=young
        )
    assert (response.status_code, response.json()) == (201, {"recorded": True})
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert conversation_id not in logged and "maaske" not in logged
    again = client.post(url, json={"helped": "nej"}, headers=young)
    assert (again.status_code, again.json()["detail"]) == (409, ALREADY)
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()[
            "feedback_given"
        ]
        is True
    )
    assert feedback_cells(session) == {
        ("feedback_helped", "lidt"): 1,
        ("feedback_write_again", "maaske"): 1,
        ("feedback_rating", "5"): 1,
    }
    stored = session.get(Conversation, conversation_id)
    assert stored is not None and stored.feedback == {
        "helped": "lidt",
        "write_again": "maaske",
        "rating": "5",
    }


def test_feedback_when_a_bot_only_conversation_ends(client, session):
    conversation_id, young, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/feedback",
        json={"helped": "ja", "write_again": None, "rating": None},
        headers=young,
    )
    assert response.status_code == 201
    assert feedback_cells(session) == {("feedback_helped", "ja"): 1}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"helped": None, "write_again": None, "rating": None},
        {"helped": "måske"},
        {"write_again": "lidt"},
        {"rating": 0},
        {"rating": 6},
        {"rating": "5x"},
        {"helped": "ja", "comment": "fri tekst er ikke tilladt"},
    ],
)
def test_feedback_refuses_anything_but_the_fixed_answers(client, session, body):
    conversation_id, young, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/feedback", json=body, headers=young
    )
    assert response.status_code == 422
    assert response.json()["detail"]
    assert feedback_cells(session) == {}


def test_feedback_needs_the_conversations_own_token(client, counsellor_headers):
    mine, my_token, _ = start(client)
    theirs, _, _ = start(client)
    url = f"/api/v1/conversations/{theirs}/feedback"
    assert client.post(url, json={"helped": "ja"}, headers=my_token).status_code == 404
    assert client.post(url, json={"helped": "ja"}).status_code == 401
    assert client.post(url, json={"helped": "ja"}, headers=counsellor_headers).status_code == 404
