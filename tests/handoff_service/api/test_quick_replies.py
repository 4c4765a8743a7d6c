"""Quick replies: Rasa's buttons are kept (titles only) with the bot line they came with."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from handoff_service import rasa_client
from handoff_service.rasa_client import BotLine, bot_lines
from tests.utils.service import start
from tests.utils.sse import listen

QUEUE_QUESTION = {
    "text": "Vil du have, at jeg sætter dig i kø til en rådgiver?",
    "buttons": [
        {"title": "Ja, sæt mig i kø", "payload": "Ja, sæt mig i kø"},
        {"title": "Nej tak", "payload": "/deny"},
    ],
}


@pytest.fixture
def rasa_answers(monkeypatch):
    """Rasa's REST channel answers with `answers` (a list, set by the test) to every message."""
    answers: list = []

    def fake_post(url, json, timeout):
        return httpx.Response(200, json=answers, request=httpx.Request("POST", url))

    monkeypatch.setattr(rasa_client.httpx, "post", fake_post)
    return answers


def test_rasa_items_become_lines_with_button_titles():
    assert bot_lines(
        [
            {"text": "Hej"},
            QUEUE_QUESTION,
            {"buttons": [{"title": "Måske", "payload": "/maybe"}]},  # no text: joins the last line
            {"image": "https://example.org/x.png"},
            "not an item",
            {"text": "Knapper uden titel", "buttons": [{"payload": "/x"}, {"title": "  "}, 7]},
        ]
    ) == [
        BotLine("Hej"),
        BotLine(QUEUE_QUESTION["text"], ("Ja, sæt mig i kø", "Nej tak", "Måske")),
        BotLine("Knapper uden titel"),
    ]


def test_many_and_repeated_buttons_are_trimmed():
    buttons = [{"title": f"Valg {n % 8}"} for n in range(20)] + [{"title": "x" * 300}]
    (line,) = bot_lines([{"text": "Vælg", "buttons": buttons}])
    assert line.quick_replies == tuple(f"Valg {n}" for n in range(6))


def test_quick_replies_are_stored_returned_and_pushed_with_the_bot_line(
    client: TestClient, rasa_answers
):
    rasa_answers[:] = [{"text": "Det lyder svært."}, QUEUE_QUESTION]
    conversation_id, headers, created = start(client)
    # The greeting came from the same fake Rasa.
    assert created["messages"][-1]["quick_replies"] == ["Ja, sæt mig i kø", "Nej tak"]
    assert created["messages"][0]["quick_replies"] is None
    url = f"/api/v1/conversations/{conversation_id}"
    with listen(client, f"{url}/events", headers) as stream:
        stream.next_of("status")
        turn = client.post(
            f"{url}/messages", json={"text": "min far drikker"}, headers=headers
        ).json()
        young = stream.next_of("message")
        first, second = stream.next_of("message"), stream.next_of("message")
    assert [m["quick_replies"] for m in turn["messages"]] == [None, ["Ja, sæt mig i kø", "Nej tak"]]
    assert young["sender"] == "young" and young["quick_replies"] is None
    assert first["quick_replies"] is None
    assert second["quick_replies"] == ["Ja, sæt mig i kø", "Nej tak"]
    stored = client.get(url, headers=headers).json()["messages"]
    assert [m["quick_replies"] for m in stored[-3:]] == [
        None,
        None,
        ["Ja, sæt mig i kø", "Nej tak"],
    ]


def test_a_button_title_is_sent_back_as_ordinary_text(client: TestClient, rasa_answers):
    rasa_answers[:] = [QUEUE_QUESTION]
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}"
    client.post(f"{url}/messages", json={"text": "Ja, sæt mig i kø"}, headers=headers)
    young = [
        m for m in client.get(url, headers=headers).json()["messages"] if m["sender"] == "young"
    ]
    assert [(m["text"], m["quick_replies"]) for m in young] == [("Ja, sæt mig i kø", None)]


def test_service_texts_have_no_quick_replies(client: TestClient):
    _id, _headers, created = start(client)  # Rasa is down: the service's own greeting
    assert created["messages"] and all(m["quick_replies"] is None for m in created["messages"])
