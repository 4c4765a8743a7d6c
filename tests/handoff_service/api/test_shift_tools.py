"""The shift's tools (issue #13, part 4; handoff_service/shift_tools.py): canned replies from the
approved library, internal notes, transfer to a colleague or back to the queue with a reason, the
first message in the queue row and Danish titles for what the bot gave."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from handoff_service.db import utcnow
from handoff_service.models import AuditEvent, Conversation, ConversationNote, User
from handoff_service.retention import purge_expired
from handoff_service.shift_tools import RELEASE_REASONS, TRANSFER_NOTICE
from handoff_service.texts import content_library
from tests.utils.factories import make_user
from tests.utils.service import login_headers, start
from tests.utils.sse import listen

NOTE = "Hemmeligt notat: virker presset, spørg til søster næste gang"
FIRST = "min mor drikker hver dag og jeg ved ikke hvad jeg skal gøre " * 4
NOT_YOURS = "Samtalen er ikke din lige nu. Tag den fra køen først."
LISE = "lise-kodeord-123"  # noqa: S105 - test data


@pytest.fixture
def published(client: TestClient) -> list[tuple[str, str, dict]]:
    """Every event the service publishes, in order (channel, event, data)."""
    broker = client.app.state.broker
    events: list[tuple[str, str, dict]] = []
    original = broker.publish_many

    def recording(batch, **options):
        events.extend(batch)
        original(batch, **options)

    broker.publish_many = recording
    return events


def claimed(client: TestClient, headers, text: str = FIRST) -> tuple[str, dict[str, str]]:
    conversation_id, young, _ = start(client)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=young
    )
    claim = client.post("/api/v1/queue/claim", headers=headers)
    assert claim.status_code == 200 and claim.json()["id"] == conversation_id, claim.text
    return conversation_id, young


@pytest.fixture
def lise(client: TestClient, session) -> tuple[int, dict[str, str]]:
    user = make_user(session, "lise", password=LISE)
    return user.id, login_headers(client, "lise", LISE)


def actions(session, conversation_id: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.conversation_id == conversation_id)
            .order_by(AuditEvent.id)
        )
    )


# -- who may use the tools ---------------------------------------------------------------------

STAFF_GETS = ["/api/v1/counsellor/canned-replies", "/api/v1/counsellor/colleagues"]


def test_young_people_and_trainers_are_refused_in_danish(
    client: TestClient, counsellor_headers, trainer_headers
):
    conversation_id, young = claimed(client, counsellor_headers)
    notes = f"/api/v1/counsellor/conversations/{conversation_id}/notes"
    transfer = f"/api/v1/counsellor/conversations/{conversation_id}/transfer"
    calls = [("GET", path, None) for path in [*STAFF_GETS, notes]] + [
        ("POST", notes, {"text": NOTE}),
        ("POST", transfer, {"to_user_id": 1}),
        ("GET", "/api/v1/counsellor/release-reasons", None),
    ]
    for method, path, body in calls:
        for headers, status in ((young, 401), ({}, 401), (trainer_headers, 403)):
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == status, (method, path, response.text)
            assert response.json()["detail"] in (
                "Du er ikke logget ind, eller dit login er udløbet.",
                "Din rolle giver ikke adgang til dette.",
            )


def test_a_colleague_can_neither_read_notes_nor_transfer_a_conversation_they_do_not_hold(
    client: TestClient, counsellor_headers, lise
):
    conversation_id, _young = claimed(client, counsellor_headers)
    client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/notes",
        json={"text": NOTE},
        headers=counsellor_headers,
    )
    lise_id, lise_headers = lise
    base = f"/api/v1/counsellor/conversations/{conversation_id}"
    for method, path, body in (
        ("GET", f"{base}/notes", None),
        ("POST", f"{base}/notes", {"text": "mit"}),
        ("POST", f"{base}/transfer", {"to_user_id": lise_id}),
    ):
        response = client.request(method, path, headers=lise_headers, json=body)
        assert (response.status_code, response.json()["detail"]) == (409, NOT_YOURS)
        assert NOTE not in response.text


# -- canned replies ----------------------------------------------------------------------------


def test_canned_replies_are_only_approved_library_items_with_real_numbers(
    client: TestClient, counsellor_headers, admin_headers
):
    response = client.get("/api/v1/counsellor/canned-replies", headers=counsellor_headers)
    assert response.status_code == 200
    replies = response.json()
    assert client.get("/api/v1/counsellor/canned-replies", headers=admin_headers).json() == replies
    library = content_library()
    numbers = replies[0]
    assert numbers["id"] == "emergency_numbers" and numbers["title"] == "Nødnumre"
    assert "112" in numbers["text"] and "116 111" in numbers["text"]
    assert "70 201 201" in numbers["text"]  # Livslinien, with its hours
    assert "Alkolinjen" not in numbers["text"]  # hours unknown: never named (as in bubbles)
    items = replies[1:]
    assert len(items) > 50
    for reply in items:
        item = library.get(reply["id"])
        assert item is not None and item.status == "approved" and item.source
        assert library.is_sendable(item)
        assert reply["theme"] == item.theme
        assert reply["theme_title"] == library.themes[item.theme].title
        assert reply["title"].startswith(reply["theme_title"] + " – ")
        assert "{" not in reply["text"] and "}" not in reply["text"]  # every placeholder filled
        for bubble in item.bubbles:
            assert bubble.split("{")[0].strip() in reply["text"]
    crisis = next(r for r in items if r["id"] == "crisis_general")
    assert "Ring 112 nu" in crisis["text"]
    assert {r["theme"] for r in items} >= {"crisis", "not_your_fault", "anonymity"}


# -- notes -------------------------------------------------------------------------------------


def test_notes_are_for_staff_and_never_reach_the_young_person(
    client: TestClient, counsellor_headers, published, caplog, session
):
    caplog.set_level(logging.DEBUG)
    conversation_id, young = claimed(client, counsellor_headers)
    path = f"/api/v1/counsellor/conversations/{conversation_id}/notes"
    assert client.get(path, headers=counsellor_headers).json() == []
    added = client.post(path, json={"text": NOTE}, headers=counsellor_headers)
    assert added.status_code == 201, added.text
    assert added.json()["text"] == NOTE and added.json()["username"] == "demo"
    listed = client.get(path, headers=counsellor_headers).json()
    assert [n["text"] for n in listed] == [NOTE]
    empty = client.post(path, json={"text": "   "}, headers=counsellor_headers)
    assert empty.status_code == 422 and isinstance(empty.json()["detail"], str)

    # Not in the young person's view, not on any stream, not in the log, not in the audit trail.
    young_view = client.get(f"/api/v1/conversations/{conversation_id}", headers=young)
    assert NOTE not in young_view.text
    assert all(NOTE not in str(data) for _channel, _event, data in published)
    assert NOTE not in caplog.text and "søster" not in caplog.text
    trail = actions(session, conversation_id)
    assert [e.action for e in trail if e.action == "note_added"] == ["note_added"]
    assert all(NOTE not in str(vars(e)) for e in trail)
    # Nor in the counsellor's conversation view (the notes have their own route).
    view = client.get(
        f"/api/v1/counsellor/conversations/{conversation_id}", headers=counsellor_headers
    )
    assert NOTE not in view.text


def test_notes_over_the_young_persons_stream_never(client: TestClient, counsellor_headers):
    """The young person's live feed: the note is added while it is open; it never arrives."""
    conversation_id, young = claimed(client, counsellor_headers)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", young) as stream:
        snapshot = stream.next()
        client.post(
            f"/api/v1/counsellor/conversations/{conversation_id}/notes",
            json={"text": NOTE},
            headers=counsellor_headers,
        )
        client.post(
            f"/api/v1/conversations/{conversation_id}/reply",
            json={"text": "Hej, jeg er her nu"},
            headers=counsellor_headers,
        )
        seen = [snapshot]
        while not (seen[-1][0] == "message" and "jeg er her" in seen[-1][1]["text"]):
            seen.append(stream.next())
    assert NOTE not in str(seen)


def test_notes_are_deleted_with_the_conversation_by_retention(
    client: TestClient, counsellor_headers, session, settings
):
    conversation_id, _young = claimed(client, counsellor_headers)
    client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/notes",
        json={"text": NOTE},
        headers=counsellor_headers,
    )
    client.post(
        f"/api/v1/conversations/{conversation_id}/close",
        json={"outcome": "talked"},
        headers=counsellor_headers,
    )
    assert session.scalar(select(ConversationNote.text)) == NOTE
    later = utcnow() + timedelta(days=settings.retention_days, minutes=1)
    assert purge_expired(session, settings, later).conversations == 1
    session.expire_all()
    assert session.get(Conversation, conversation_id) is None
    assert list(session.scalars(select(ConversationNote))) == []


def test_the_database_cascade_deletes_notes_too(client: TestClient, counsellor_headers, session):
    """Without the retention job's explicit delete: the foreign key's ON DELETE CASCADE."""
    conversation_id, _young = claimed(client, counsellor_headers)
    client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/notes",
        json={"text": NOTE},
        headers=counsellor_headers,
    )
    session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    session.commit()
    assert list(session.scalars(select(ConversationNote))) == []


# -- transfer ----------------------------------------------------------------------------------


def test_transfer_to_a_named_colleague(
    client: TestClient, counsellor_headers, lise, session, published
):
    conversation_id, young = claimed(client, counsellor_headers)
    lise_id, lise_headers = lise
    colleagues = client.get("/api/v1/counsellor/colleagues", headers=counsellor_headers).json()
    assert "lise" in [c["username"] for c in colleagues]
    assert "demo" not in [c["username"] for c in colleagues]  # not oneself
    assert "demo-traener" not in [c["username"] for c in colleagues]  # trainers do not counsel
    client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/notes",
        json={"text": NOTE},
        headers=counsellor_headers,
    )

    moved = client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/transfer",
        json={"to_user_id": lise_id},
        headers=counsellor_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "active" and moved.json()["counsellor_id"] == lise_id

    # The colleague: told on the dashboard feed (ids only), in "Mine samtaler", reads the notes.
    me = client.get("/api/v1/auth/me", headers=counsellor_headers).json()["id"]
    feed = [(event, data) for channel, event, data in published if channel == "dashboard"]
    told = {"conversation_id": conversation_id, "counsellor_id": lise_id, "from_counsellor_id": me}
    assert ("transfer", told) in feed
    assert any(e == "queue" and d["reason"] == "transfer" for e, d in feed)
    assert all(FIRST.strip()[:20] not in str(d) for _e, d in feed)
    mine = client.get("/api/v1/counsellor/mine", headers=lise_headers).json()
    assert conversation_id in [m["id"] for m in mine]
    notes = client.get(
        f"/api/v1/counsellor/conversations/{conversation_id}/notes", headers=lise_headers
    )
    assert [n["text"] for n in notes.json()] == [NOTE]
    reply = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "Hej, jeg hedder Lise"},
        headers=lise_headers,
    )
    assert reply.status_code == 200
    # The first holder: no longer theirs.
    again = client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "hej"},
        headers=counsellor_headers,
    )
    assert again.status_code == 409

    # The young person: told in Danish, in the transcript and on their stream.
    view = client.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()
    assert view["status"] == "active"
    assert TRANSFER_NOTICE in [m["text"] for m in view["messages"] if m["sender"] == "bot"]
    assert "En anden rådgiver tager over" in TRANSFER_NOTICE
    assert any(
        channel == f"conversation:{conversation_id}"
        and event == "message"
        and data["text"] == TRANSFER_NOTICE
        for channel, event, data in published
    )
    assert "lise" not in str(view)

    trail = [e for e in actions(session, conversation_id) if e.action == "transfer"]
    assert len(trail) == 1 and trail[0].subject_user_id == lise_id and trail[0].reason is None


def test_transfer_refuses_oneself_an_inactive_user_and_a_trainer(
    client: TestClient, counsellor_headers, session
):
    conversation_id, _young = claimed(client, counsellor_headers)
    me = client.get("/api/v1/auth/me", headers=counsellor_headers).json()["id"]
    gone = make_user(session, "gone")
    gone.is_active = False
    session.commit()
    trainer = session.scalar(select(User.id).where(User.role == "trainer"))
    for to_user_id in (me, gone.id, trainer, 999_999):
        response = client.post(
            f"/api/v1/counsellor/conversations/{conversation_id}/transfer",
            json={"to_user_id": to_user_id},
            headers=counsellor_headers,
        )
        assert response.status_code == 422, (to_user_id, response.text)
        assert isinstance(response.json()["detail"], str)
    assert not [e for e in actions(session, conversation_id) if e.action == "transfer"]


def test_back_to_the_queue_with_a_reason_code(client: TestClient, counsellor_headers, session):
    reasons = client.get("/api/v1/counsellor/release-reasons", headers=counsellor_headers).json()
    assert [r["code"] for r in reasons] == list(RELEASE_REASONS)
    assert all(r["label"] for r in reasons)
    conversation_id, _young = claimed(client, counsellor_headers)
    released = client.post(
        f"/api/v1/conversations/{conversation_id}/release",
        json={"reason": "shift_ending"},
        headers=counsellor_headers,
    )
    assert released.status_code == 200 and released.json()["status"] == "queued"
    release = [e for e in actions(session, conversation_id) if e.action == "release"]
    assert [e.reason for e in release] == ["shift_ending"]

    # Free text is not a reason; the release without a body still works as before.
    client.post("/api/v1/queue/claim", headers=counsellor_headers)
    free = client.post(
        f"/api/v1/conversations/{conversation_id}/release",
        json={"reason": "hun var irriterende"},
        headers=counsellor_headers,
    )
    assert free.status_code == 422 and isinstance(free.json()["detail"], str)
    plain = client.post(
        f"/api/v1/conversations/{conversation_id}/release", headers=counsellor_headers
    )
    assert plain.status_code == 200 and plain.json()["status"] == "queued"
    reasons_kept = [e.reason for e in actions(session, conversation_id) if e.action == "release"]
    assert reasons_kept == ["shift_ending", None]


# -- the queue row and the labels of what the bot gave ------------------------------------------


def test_the_queue_row_has_the_first_message_cut_and_the_titles_of_what_the_bot_gave(
    client: TestClient, counsellor_headers, internal_headers
):
    conversation_id, young, _ = start(client)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": FIRST}, headers=young
    )
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "anden besked"},
        headers=young,
    )
    client.post(
        f"/internal/v1/conversations/{conversation_id}/triage",
        json={
            "risk": "critical",
            "intents": ["immediate_danger"],
            "content_given": ["crisis_general", "followup_what_to_do_general"],
        },
        headers=internal_headers,
    )
    row = next(
        r
        for r in client.get("/api/v1/queue", headers=counsellor_headers).json()
        if r["id"] == conversation_id
    )
    assert row["first_message"].startswith("min mor drikker hver dag")
    assert len(row["first_message"]) <= 120 and row["first_message"].endswith("…")
    assert "anden besked" not in row["first_message"]
    titles = {label["id"]: label["title"] for label in row["content_given"]}
    assert titles["crisis_general"] == "Akut hjælp – Det lyder farligt."
    assert titles["followup_what_to_do_general"].startswith("Opfølgende spørgsmål – ")
    assert "crisis_general" not in row["summary"]
    assert "botten har givet: Akut hjælp, Opfølgende spørgsmål" in row["summary"]

    view = client.post("/api/v1/queue/claim", headers=counsellor_headers).json()
    assert view["id"] == conversation_id
    assert [label["title"] for label in view["content_given"]] == list(titles.values())
    # The young person never sees any of it.
    young_view = client.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()
    assert "content_given" not in young_view and "first_message" not in young_view
