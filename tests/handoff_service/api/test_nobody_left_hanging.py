"""Nobody is left hanging (issue #13): "Mine samtaler", stale claims back to the queue, and
"Tag næste" with a young person waiting (handoff_service/stale_claims.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff_service.db import utcnow
from handoff_service.models import AuditEvent, Conversation, Message
from handoff_service.stale_claims import StaleClaims
from tests.utils.factories import make_queued_conversation, make_user, minutes_ago
from tests.utils.service import login_headers, start

NOTICE_START = "Din rådgiver blev desværre afbrudt."
LISE_PASSWORD = "lise-kodeord-123"  # noqa: S105 - test data


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


def run_job(client: TestClient, session, job: StaleClaims | None = None, now=None):
    job = job or StaleClaims()
    session.expire_all()
    app = client.app
    return job.check(
        session, app.state.settings, app.state.broker, app.state.texts, now or utcnow()
    )


def age(session, conversation_id: str, minutes: float) -> None:
    """Moves everything that happened in a conversation `minutes` into the past."""
    delta = timedelta(minutes=minutes)
    session.expire_all()
    rows = [
        *session.scalars(select(Message).where(Message.conversation_id == conversation_id)),
        *session.scalars(select(AuditEvent).where(AuditEvent.conversation_id == conversation_id)),
    ]
    for row in rows:
        row.created_at = row.created_at - delta
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    for column in ("queued_at", "claimed_at", "counsellor_active_at"):
        if getattr(conversation, column) is not None:
            setattr(conversation, column, getattr(conversation, column) - delta)
    session.commit()


def waiting_young_person(client: TestClient, text: str = "er der nogen?"):
    """A young person who wrote, was queued (the bot is down in these tests) and waits."""
    conversation_id, headers, _ = start(client)
    turn = client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=headers
    )
    assert turn.status_code == 200 and turn.json()["status"] == "queued", turn.text
    return conversation_id, headers


def claim(client: TestClient, headers: dict[str, str]) -> str:
    claimed = client.post("/api/v1/queue/claim", headers=headers)
    assert claimed.status_code == 200, claimed.text
    return claimed.json()["id"]


# -- roles -------------------------------------------------------------------------------------


def test_mine_and_keepalive_are_for_counsellors_and_admins_only(
    client: TestClient, counsellor_headers, trainer_headers, admin_headers
):
    assert client.get("/api/v1/counsellor/mine").status_code == 401
    assert client.get("/api/v1/counsellor/mine", headers=trainer_headers).status_code == 403
    assert client.get("/api/v1/counsellor/mine", headers=admin_headers).status_code == 200
    conversation_id, young = waiting_young_person(client)
    assert claim(client, counsellor_headers) == conversation_id
    keepalive = f"/api/v1/counsellor/conversations/{conversation_id}/keepalive"
    assert client.post(keepalive).status_code == 401
    assert client.post(keepalive, headers=young).status_code == 401
    assert client.post(keepalive, headers=trainer_headers).status_code == 403
    # Another counsellor cannot keep someone else's claim alive.
    assert client.post(keepalive, headers=admin_headers).status_code == 409
    assert client.post(keepalive, headers=counsellor_headers).status_code == 204


# -- Mine samtaler -----------------------------------------------------------------------------


def test_mine_survives_a_new_login_and_shows_no_message_text(
    client: TestClient, session, counsellor_headers, admin_headers
):
    live_id, _ = waiting_young_person(client, "min far drikker hver aften")
    later_id, later_young = waiting_young_person(client, "jeg kan ikke sove")
    talked_id, _ = waiting_young_person(client, "hej")
    assert claim(client, counsellor_headers) == live_id
    assert claim(client, counsellor_headers) == later_id
    assert claim(client, counsellor_headers) == talked_id
    client.post(
        f"/api/v1/conversations/{later_id}/reply",
        json={"text": "Jeg svarer dig her i morgen", "leave_for_later": True},
        headers=counsellor_headers,
    )
    client.post(
        f"/api/v1/conversations/{talked_id}/close",
        json={"outcome": "talked"},
        headers=counsellor_headers,
    )
    # The tab closed, the login expired: a new login finds the conversations again.
    assert client.post("/api/v1/auth/logout", headers=counsellor_headers).status_code == 204
    assert client.get("/api/v1/counsellor/mine", headers=counsellor_headers).status_code == 401
    again = login_headers(client, "demo")
    mine = client.get("/api/v1/counsellor/mine", headers=again)
    assert mine.status_code == 200
    rows = mine.json()
    assert [(row["id"], row["status"]) for row in rows] == [
        (live_id, "active"),
        (later_id, "closed"),
    ]
    assert rows[0]["young_waiting"] is True and rows[0]["waiting_since"]
    assert rows[1]["outcome"] == "answered_letterbox" and rows[1]["young_waiting"] is False
    assert {"summary", "risk_label", "topic_label"} <= rows[0].keys()
    assert "min far drikker" not in mine.text and "svarer dig" not in mine.text
    assert "messages" not in rows[0]
    # Clicking one opens it as today.
    opened = client.get(f"/api/v1/counsellor/conversations/{live_id}", headers=again)
    assert opened.status_code == 200 and opened.json()["status"] == "active"
    # Nobody else's list shows them.
    assert client.get("/api/v1/counsellor/mine", headers=admin_headers).json() == []
    # The young person comes back to the answer and writes: it is the queue's again.
    client.post(
        f"/api/v1/conversations/{later_id}/messages", json={"text": "tak"}, headers=later_young
    )
    rows = client.get("/api/v1/counsellor/mine", headers=again).json()
    assert [row["id"] for row in rows] == [live_id]


# -- stale claims ------------------------------------------------------------------------------


def test_a_stale_claim_goes_back_to_its_old_place_and_everyone_is_told(
    client: TestClient, session, counsellor_headers, published
):
    first_id, young = waiting_young_person(client)
    second = make_queued_conversation(session, queued_at=utcnow() + timedelta(seconds=1))
    assert claim(client, counsellor_headers) == first_id
    age(session, first_id, 11)
    queued_at = session.get(Conversation, first_id).queued_at
    counsellor = session.get(Conversation, first_id).counsellor_id
    published.clear()

    result = run_job(client, session)

    assert result.released == [first_id]
    session.expire_all()
    conversation = session.get(Conversation, first_id)
    assert conversation.status == "queued" and conversation.counsellor_id is None
    assert conversation.queued_at == queued_at, "the old place, not the back of the queue"
    queue = client.get("/api/v1/queue", headers=counsellor_headers).json()
    assert [item["id"] for item in queue] == [first_id, second.id]
    row = session.scalars(
        select(AuditEvent).where(
            AuditEvent.conversation_id == first_id, AuditEvent.action == "release_stale"
        )
    ).one()
    assert row.user_id is None and row.subject_user_id == counsellor
    # The young person: a bot line, the live notice and the old place.
    view = client.get(f"/api/v1/conversations/{first_id}", headers=young).json()
    assert view["status"] == "queued" and view["queue"]["position"] == 1
    assert view["messages"][-1]["sender"] == "bot"
    assert view["messages"][-1]["text"].startswith(NOTICE_START)
    channel = f"conversation:{first_id}"
    kinds = [(event, data) for chan, event, data in published if chan == channel]
    assert ("message", "bot") in [(event, data.get("sender")) for event, data in kinds]
    left = [data for event, data in kinds if event == "counsellor_left"]
    assert left and left[0]["text"].startswith(NOTICE_START) and "counsellor_id" not in left[0]
    # The dashboards: a queue event with reason "stale".
    alerts = [data for chan, event, data in published if chan == "dashboard" and event == "queue"]
    assert alerts[-1]["reason"] == "stale" and alerts[-1]["conversation_id"] == first_id
    assert alerts[-1]["waiting_count"] == 2
    # The counsellor's list no longer holds it; the next claim takes it again.
    assert client.get("/api/v1/counsellor/mine", headers=counsellor_headers).json() == []


def test_the_counsellor_is_warned_once_before(
    client: TestClient, session, counsellor_headers, published
):
    conversation_id, _ = waiting_young_person(client)
    claim(client, counsellor_headers)
    counsellor = session.get(Conversation, conversation_id).counsellor_id
    job = StaleClaims()
    age(session, conversation_id, 5)
    assert run_job(client, session, job).warned == []
    age(session, conversation_id, 3.5)  # 8.5 minutes: two before the release
    published.clear()
    result = run_job(client, session, job)
    assert result.warned == [conversation_id] and result.released == []
    warnings = [data for chan, event, data in published if event == "stale_warning"]
    assert len(warnings) == 1 and all(chan == "dashboard" for chan, *_ in published)
    assert warnings[0]["counsellor_id"] == counsellor
    assert warnings[0]["conversation_id"] == conversation_id
    assert 80 <= warnings[0]["seconds_left"] <= 90
    assert run_job(client, session, job).warned == [], "one warning per idle spell"
    # "Jeg er her stadig" restarts the clock; a new idle spell warns again.
    client.post(
        f"/api/v1/counsellor/conversations/{conversation_id}/keepalive",
        headers=counsellor_headers,
    )
    assert run_job(client, session, job).warned == []
    later = utcnow() + timedelta(minutes=8.5)
    assert run_job(client, session, job, now=later).warned == [conversation_id]
    assert run_job(client, session, job, now=later + timedelta(minutes=2)).released == [
        conversation_id
    ]


@pytest.mark.parametrize("sign", ["keepalive", "open", "typing", "reply"])
def test_a_sign_of_the_counsellor_restarts_the_clock(
    client: TestClient, session, counsellor_headers, sign
):
    conversation_id, _ = waiting_young_person(client)
    claim(client, counsellor_headers)
    age(session, conversation_id, 11)
    if sign == "keepalive":
        response = client.post(
            f"/api/v1/counsellor/conversations/{conversation_id}/keepalive",
            headers=counsellor_headers,
        )
    elif sign == "typing":
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/typing", headers=counsellor_headers
        )
    elif sign == "open":
        response = client.get(
            f"/api/v1/counsellor/conversations/{conversation_id}", headers=counsellor_headers
        )
    else:
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/reply",
            json={"text": "Jeg er her. Fortæl mere."},
            headers=counsellor_headers,
        )
    assert response.status_code in (200, 204), response.text
    assert run_job(client, session).released == []
    assert run_job(client, session, now=utcnow() + timedelta(minutes=9)).released == []
    expected = [] if sign == "reply" else [conversation_id]  # answered: nobody waits
    assert run_job(client, session, now=utcnow() + timedelta(minutes=10.5)).released == expected


def test_writing_again_does_not_keep_a_claim_nobody_looks_after(
    client: TestClient, session, counsellor_headers
):
    conversation_id, young = waiting_young_person(client)
    claim(client, counsellor_headers)
    age(session, conversation_id, 11)
    client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "hallo?"}, headers=young
    )
    assert run_job(client, session).released == [conversation_id]


def test_a_young_person_who_is_not_waiting_is_not_released(
    client: TestClient, session, counsellor_headers
):
    conversation_id, _ = waiting_young_person(client)
    claim(client, counsellor_headers)
    client.post(
        f"/api/v1/conversations/{conversation_id}/reply",
        json={"text": "Hvordan har du det nu?"},
        headers=counsellor_headers,
    )
    age(session, conversation_id, 60)
    result = run_job(client, session)
    assert result.released == [] and result.warned == []
    session.expire_all()
    assert session.get(Conversation, conversation_id).status == "active"


def test_a_fresh_claim_with_an_old_question_is_not_released_at_once(
    client: TestClient, session, counsellor_headers
):
    """The young person waited in the queue for an hour; the clock starts at the claim."""
    conversation_id, _ = waiting_young_person(client)
    age(session, conversation_id, 60)
    claim(client, counsellor_headers)
    assert run_job(client, session).released == []


# -- "Tag næste" with a young person waiting ---------------------------------------------------


def test_take_next_while_someone_waits_leaves_them_in_mine_not_hanging(
    client: TestClient, session, counsellor_headers
):
    """The page asks before "Tag næste" when a row of "Mine samtaler" says the young person
    waits; if the counsellor goes on, the first stays theirs and listed, and the stale job
    returns it to the queue if they do not come back to it."""
    first_id, _ = waiting_young_person(client)
    second_id, _ = waiting_young_person(client)
    assert claim(client, counsellor_headers) == first_id
    rows = client.get("/api/v1/counsellor/mine", headers=counsellor_headers).json()
    assert [(row["id"], row["young_waiting"]) for row in rows] == [(first_id, True)]
    client.post(
        f"/api/v1/conversations/{first_id}/reply",
        json={"text": "Jeg er her"},
        headers=counsellor_headers,
    )
    rows = client.get("/api/v1/counsellor/mine", headers=counsellor_headers).json()
    assert [(row["id"], row["young_waiting"]) for row in rows] == [(first_id, False)]
    assert claim(client, counsellor_headers) == second_id
    rows = client.get("/api/v1/counsellor/mine", headers=counsellor_headers).json()
    assert [(row["id"], row["young_waiting"]) for row in rows] == [
        (second_id, True),
        (first_id, False),
    ]


def test_disabling_a_counsellor_still_releases_theirs(client: TestClient, session, admin_headers):
    user = make_user(session, "lise", password=LISE_PASSWORD)
    headers = login_headers(client, "lise", LISE_PASSWORD)
    conversation_id, _ = waiting_young_person(client)
    assert claim(client, headers) == conversation_id
    assert client.post(f"/api/v1/users/{user.id}/disable", headers=admin_headers).status_code == 200
    session.expire_all()
    assert session.get(Conversation, conversation_id).status == "queued"
    assert client.get("/api/v1/counsellor/mine", headers=admin_headers).json() == []
    assert minutes_ago(0) >= session.get(Conversation, conversation_id).queued_at
