"""The counsellor's conversation: duty-to-report guidance, the anonymity flag, the letterbox and
the audit trail (who opened what, never what was written)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from handoff_service.models import AuditEvent
from tests.utils.factories import make_queued_conversation
from tests.utils.service import start


def claimed_conversation(client: TestClient, headers) -> dict:
    conversation_id, young_headers, _ = start(client)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "min mor drikker hver dag"},
        headers=young_headers,
    )
    claimed = client.post("/api/v1/queue/claim", headers=headers).json()
    assert claimed["id"] == conversation_id
    return {"id": conversation_id, "young": young_headers, "view": claimed}


def test_every_conversation_view_carries_the_duty_to_report_guidance(
    client: TestClient, counsellor_headers
):
    guidance = claimed_conversation(client, counsellor_headers)["view"]["duty_to_report"]
    assert "underretningspligt" in guidance["title"]
    assert "under 18" in guidance["summary"]
    steps = " ".join(guidance["steps"])
    assert "112" in steps, "the emergency number is filled in from the content library"
    assert "{number:" not in steps
    assert "Fortæl den unge" in steps, (
        "transparency: nothing comes as a surprise to the young person"
    )
    sources = " ".join(s["title"] + " " + s["reference"] for s in guidance["sources"])
    assert "Barnets lov § 133" in sources and "Socialstyrelsen (2019)" in sources


def test_anonymity_broken_is_recorded_once_with_guidance_and_audit(
    client: TestClient, session, counsellor_headers
):
    conversation = claimed_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation['id']}/anonymity-broken"
    first = client.post(url, headers=counsellor_headers).json()
    assert first["anonymity_broken"] is True and first["anonymity_broken_at"]
    assert first["duty_to_report"]["steps"]
    again = client.post(url, headers=counsellor_headers).json()
    assert again["anonymity_broken_at"] == first["anonymity_broken_at"]
    flags = session.scalars(
        select(AuditEvent).where(
            AuditEvent.conversation_id == conversation["id"],
            AuditEvent.action == "anonymity_broken",
        )
    ).all()
    assert len(flags) == 1


def test_only_the_claiming_counsellor_can_flag(
    client: TestClient, session, counsellor_headers, admin_headers
):
    conversation = claimed_conversation(client, counsellor_headers)
    response = client.post(
        f"/api/v1/conversations/{conversation['id']}/anonymity-broken", headers=admin_headers
    )
    assert response.status_code == 409


def test_letterbox_answer_waits_for_the_young_person_who_left(
    client: TestClient, counsellor_headers
):
    conversation = claimed_conversation(client, counsellor_headers)
    answer = "Tak for din besked. Det er ikke din skyld, at din mor drikker. Skriv, når du vil."
    left = client.post(
        f"/api/v1/conversations/{conversation['id']}/reply",
        json={"text": answer, "leave_for_later": True},
        headers=counsellor_headers,
    )
    assert left.status_code == 200
    # Later, from another device or a reloaded page: only the token is needed.
    back = client.get(
        f"/api/v1/conversations/{conversation['id']}", headers=conversation["young"]
    ).json()
    assert back["status"] == "closed" and back["queue"] is None
    assert back["messages"][-1]["sender"] == "counsellor" and back["messages"][-1]["text"] == answer
    view = client.get(
        f"/api/v1/counsellor/conversations/{conversation['id']}", headers=counsellor_headers
    ).json()
    assert view["outcome"] == "answered_letterbox"
    # Writing back puts them in the queue again, with a place.
    turn = client.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "tak, det hjalp"},
        headers=conversation["young"],
    ).json()
    assert turn["status"] == "queued" and turn["queue"]["position"] == 1


def test_a_young_person_who_comes_back_still_waiting_sees_their_place(client: TestClient, session):
    make_queued_conversation(session, risk="high")
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    back = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    assert back["status"] == "queued"
    assert back["queue"]["position"] == 2 and back["queue"]["waiting_count"] == 2
    assert "next_shift_start" in back["queue"] and "eta_minutes" in back["queue"]


def test_audit_trail_names_who_opened_what_and_never_holds_text(
    client: TestClient, session, counsellor_headers, admin_headers
):
    conversation = claimed_conversation(client, counsellor_headers)
    cid = conversation["id"]
    client.get(f"/api/v1/counsellor/conversations/{cid}", headers=counsellor_headers)
    client.post(
        f"/api/v1/conversations/{cid}/reply",
        json={"text": "hemmelig tekst 42"},
        headers=counsellor_headers,
    )
    client.post(f"/api/v1/conversations/{cid}/anonymity-broken", headers=counsellor_headers)
    client.post(f"/api/v1/conversations/{cid}/release", headers=counsellor_headers)
    client.post("/api/v1/queue/claim", headers=counsellor_headers)
    client.post(
        f"/api/v1/conversations/{cid}/close", json={"outcome": "talked"}, headers=counsellor_headers
    )
    trail = client.get(f"/api/v1/audit?conversation_id={cid}", headers=admin_headers).json()
    assert [event["action"] for event in reversed(trail)] == [
        "claim",
        "open",
        "reply",
        "anonymity_broken",
        "release",
        "claim",
        "close",
    ]
    assert {event["username"] for event in trail} == {"demo"}
    assert "hemmelig" not in str(trail)
    columns = {column["name"] for column in inspect(session.get_bind()).get_columns("audit_events")}
    assert columns == {
        "id",
        "user_id",
        "conversation_id",
        "subject_user_id",
        "action",
        "reason",  # a fixed code (handoff_service/shift_tools.py RELEASE_REASONS), never text
        "created_at",
    }
    assert client.get("/api/v1/audit", headers=counsellor_headers).status_code == 403
    assert (
        client.get("/api/v1/audit?conversation_id=../../x", headers=admin_headers).status_code
        == 422
    )


def test_message_text_lives_only_in_the_messages_table(session):
    from handoff_service.db import Base

    text_columns = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.type.python_type is str and (getattr(column.type, "length", None) or 10_000) > 200
    }
    # The counsellors' internal notes are one other text: staff only and deleted with the
    # conversation (tests/handoff_service/api/test_shift_tools.py). The trainer's inbox is the
    # other: scrubbed of personal data, linked to no conversation, deleted with its last one
    # unless accepted (tests/handoff_service/test_trainer_inbox.py). An organisation's
    # presentation and confidentiality are its admin's approved page content, no young person's.
    # The model history holds model file paths.
    assert text_columns == {
        "model_promotions.model",
        "model_promotions.previous_model",
        "organisations.presentation",
        "organisations.confidentiality",
        "messages.text",
        "conversation_notes.text",
        "trainer_inbox_items.text",
        "users.password_hash",
    }


def test_a_counsellors_reply_is_measured_after_nfc_like_the_young_persons(
    client: TestClient, counsellor_headers
):
    conversation = claimed_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation['id']}/reply"
    refused = client.post(url, json={"text": "\ufb2c" * 2000}, headers=counsellor_headers)
    assert refused.status_code == 422
    assert refused.json() == {"detail": "Beskeden er for lang (højst 2000 tegn)."}
    accepted = client.post(url, json={"text": "a\u030a" * 1500}, headers=counsellor_headers)
    assert accepted.status_code == 200
    assert accepted.json()["text"] == "å" * 1500
