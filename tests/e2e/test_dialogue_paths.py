"""The dialogue through the public API on the real system: greeting by the calendar, crisis
response and first place in the queue, and the triage summary the counsellor sees."""

from __future__ import annotations

import pytest

from tests.utils.e2e import set_calendar

pytestmark = pytest.mark.e2e
DANISH_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


def start(api):
    body = api.post("/api/v1/conversations").json()
    return body, {"Authorization": f"Bearer {body['token']}"}


def say(api, conversation, headers, text):
    response = api.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def joined(messages) -> str:
    return " ".join(m["text"] for m in messages)


def test_greeting_when_no_counsellor_is_on_duty_says_when_the_next_shift_starts(api):
    set_calendar(api, open_now=False)
    body, _ = start(api)
    greeting = joined(body["messages"])
    assert "ingen rådgiver på vagt" in greeting
    assert any(f"{day} kl. 17" in greeting for day in DANISH_WEEKDAYS), greeting
    assert "kode" in greeting  # tells them they can come back and read the answer


def test_greeting_when_a_counsellor_is_on_duty_asks_what_it_is_about(api):
    set_calendar(api, open_now=True)
    body, _ = start(api)
    greeting = joined(body["messages"])
    assert "rådgiver på vagt lige nu" in greeting
    assert "hvad det handler om" in greeting
    assert "ingen rådgiver på vagt" not in greeting


def test_topic_gets_validation_and_knowledge_then_an_offer(api):
    set_calendar(api, open_now=True)
    body, headers = start(api)
    turn = say(api, body, headers, "min mor drikker hver dag og jeg er så træt af det")
    assert turn["status"] == "bot"
    assert len(turn["messages"]) >= 3
    assert "rådgiver" in turn["messages"][-1]["text"]
    again = say(api, body, headers, "min mor er fuld igen i aften")
    assert joined(again["messages"]) != joined(turn["messages"])  # no item twice


def test_crisis_gets_emergency_numbers_and_goes_first_with_a_summary(api, empty_queue, counsellor):
    set_calendar(api, open_now=False)
    waiting, waiting_headers = start(api)
    say(api, waiting, waiting_headers, "jeg vil gerne snakke med en rådgiver")

    crisis, crisis_headers = start(api)
    say(api, crisis, crisis_headers, "min far drikker og slår min mor")
    turn = say(api, crisis, crisis_headers, "jeg har samlet piller og vil ikke leve mere")
    reply = joined(turn["messages"])
    assert "112" in reply and "70 201 201" in reply and "116 111" in reply
    assert "ingen rådgiver på vagt" in reply  # honest when closed
    assert turn["status"] == "queued" and turn["queue"]["position"] == 1
    state = api.get(f"/api/v1/conversations/{crisis['id']}", headers=crisis_headers).json()
    assert state["risk"] == "critical"
    assert (
        api.get(f"/api/v1/conversations/{waiting['id']}", headers=waiting_headers).json()["queue"][
            "position"
        ]
        == 2
    )

    queue = api.get("/api/v1/queue", headers=counsellor).json()
    assert queue[0]["id"] == crisis["id"] and queue[0]["risk"] == "critical"
    assert "Kritisk" in queue[0]["summary"] and "far" in queue[0]["summary"]
    claimed = api.post("/api/v1/queue/claim", headers=counsellor).json()
    assert claimed["id"] == crisis["id"]
    assert "suicidal" in claimed["triage"]["intents"] and "violence" in claimed["triage"]["intents"]
    assert claimed["triage"]["content_given"]  # the counsellor sees what the bot already gave


def test_request_human_queues_at_once_and_the_answer_updates_the_summary(
    api, empty_queue, counsellor
):
    set_calendar(api, open_now=True)
    body, headers = start(api)
    turn = say(api, body, headers, "kan jeg ikke bare få lov at tale med et rigtigt menneske")
    assert turn["status"] == "queued" and turn["queue"]["position"] == 1
    assert "hvad det handler om" in joined(turn["messages"])
    say(api, body, headers, "min stedfar ryger hash hele tiden og er mega aggressiv")
    queue = api.get("/api/v1/queue", headers=counsellor).json()
    mine = next(item for item in queue if item["id"] == body["id"])
    assert mine["topic"] in ("parent_drugs", "violence", "conflict_home"), mine
    assert "stedfar" in mine["summary"]
