"""One anonymous conversation end to end, on the real Rasa, action server and handoff service."""

from __future__ import annotations

import pytest

from tests.utils.e2e import EventStream, start

pytestmark = pytest.mark.e2e


def counsellor_login(api) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json={"username": "demo", "password": "e2e-password"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_greeting_handoff_claim_reply_and_close(api, live_stack, empty_queue):
    first, first_headers = start(api)
    greeting = " ".join(m["text"] for m in first["messages"])
    assert first["status"] == "bot"
    assert "velkommen" in greeting.lower() and "anonym" in greeting

    stream = EventStream(
        live_stack.service_url, f"/api/v1/conversations/{first['id']}/events", first["token"]
    )
    try:
        stream.wait_for(lambda event, data: event == "status")  # the snapshot on connect

        turn = api.post(
            f"/api/v1/conversations/{first['id']}/messages",
            json={"text": "jeg vil gerne snakke med en rådgiver"},
            headers=first_headers,
        ).json()
        assert turn["status"] == "queued"
        assert turn["queue"]["position"] == 1
        bot_reply = " ".join(m["text"] for m in turn["messages"])
        assert "kø" in bot_reply and "nummer 1" in bot_reply

        second, second_headers = start(api)
        turn2 = api.post(
            f"/api/v1/conversations/{second['id']}/messages",
            json={"text": "kan jeg ikke nok få lov at skrive med et menneske"},
            headers=second_headers,
        ).json()
        assert turn2["status"] == "queued" and turn2["queue"]["position"] == 2

        counsellor = counsellor_login(api)
        claimed = api.post("/api/v1/queue/claim", headers=counsellor)
        assert claimed.status_code == 200
        conversation = claimed.json()
        assert conversation["id"] == first["id"]
        transcript = [(m["sender"], m["text"]) for m in conversation["messages"]]
        assert ("young", "jeg vil gerne snakke med en rådgiver") in transcript
        assert any(sender == "bot" for sender, _ in transcript)
        stream.wait_for(lambda event, data: event == "status" and data["status"] == "active")

        # The second young person moves up to first place, pushed live.
        second_view = api.get(
            f"/api/v1/conversations/{second['id']}", headers=second_headers
        ).json()
        assert second_view["queue"]["position"] == 1

        reply = api.post(
            f"/api/v1/conversations/{first['id']}/reply",
            json={"text": "Hej, jeg hedder Maja og er rådgiver. Hvad har du på hjerte?"},
            headers=counsellor,
        )
        assert reply.status_code == 200
        pushed = stream.wait_for(
            lambda event, data: event == "message" and data["sender"] == "counsellor"
        )
        assert pushed[1]["text"].startswith("Hej, jeg hedder Maja")

        seen = api.get(f"/api/v1/conversations/{first['id']}", headers=first_headers).json()
        assert seen["status"] == "active"
        assert seen["messages"][-1]["sender"] == "counsellor"

        closed = api.post(
            f"/api/v1/conversations/{first['id']}/close",
            json={"outcome": "talked"},
            headers=counsellor,
        )
        assert closed.json()["status"] == "closed"
        stream.wait_for(lambda event, data: event == "status" and data["status"] == "closed")
    finally:
        stream.close()
