"""The trainer's inbox over HTTP: filters and order, labels, batch, undo, the audit trail without
text, and the counsellor's "botten misforstod" (handoff_service/api/routes/trainer.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service import trainer_inbox as inbox
from handoff_service.db import utcnow
from handoff_service.models import AuditEvent, Message
from handoff_service.trainer_inbox import TrainerInboxItem
from tests.utils.factories import make_user
from tests.utils.service import login_headers, start

INBOX = "/api/v1/trainer/inbox"
TODAY = date.today()
COLLEAGUE_PASSWORD = "kollega-kodeord-1234"  # noqa: S105 - test data


@pytest.fixture
def conversation_id(client: TestClient) -> str:
    conversation_id, _young, _ = start(client)
    return conversation_id


def add(
    session: Session,
    conversation_id: str,
    text: str,
    reasons: list[str],
    confidence: float | None,
    intent: str | None = "feeling_sad",
    day: date = TODAY,
) -> int:
    alternatives = [{"intent": intent, "confidence": confidence}] if intent and confidence else []
    item = inbox.add_to_inbox(
        session,
        conversation_id,
        text,
        reasons,
        day,
        predicted_intent=intent,
        confidence=confidence,
        alternatives=alternatives,
    )
    session.commit()
    return item.id


@pytest.fixture
def three(session: Session, conversation_id: str) -> list[int]:
    return [
        add(session, conversation_id, "mellem", ["ambiguous"], 0.5, "parent_alcohol"),
        add(session, conversation_id, "lav", ["below_threshold"], 0.1, "feeling_sad"),
        add(
            session,
            conversation_id,
            "gammel",
            ["safety_net"],
            0.7,
            "feeling_guilt",
            day=TODAY - timedelta(days=10),
        ),
    ]


def texts(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json()]


def test_the_inbox_lists_open_items_lowest_confidence_first(client, trainer_headers, three):
    assert texts(client.get(INBOX, headers=trainer_headers)) == ["lav", "mellem", "gammel"]
    item = client.get(INBOX, headers=trainer_headers).json()[0]
    assert set(item) == {
        "id",
        "text",
        "count",
        "day",
        "reasons",
        "predicted_intent",
        "confidence",
        "alternatives",
        "lexicon_concept",
        "status",
        "label",
        "labelled_by",
        "labelled_at",
        "exported_at",
    }
    assert item["day"] == TODAY.isoformat()


def test_filters(client, trainer_headers, three):
    get = lambda **params: texts(client.get(INBOX, headers=trainer_headers, params=params))  # noqa: E731
    assert get(reason="ambiguous") == ["mellem"]
    assert get(intent="feeling_guilt") == ["gammel"]
    assert get(min_confidence=0.4, max_confidence=0.6) == ["mellem"]
    assert get(**{"from": (TODAY - timedelta(days=1)).isoformat()}) == ["lav", "mellem"]
    assert get(to=(TODAY - timedelta(days=5)).isoformat()) == ["gammel"]
    assert get(sort="-confidence") == ["gammel", "mellem", "lav"]
    assert get(status="accepted") == []
    refused = client.get(INBOX, headers=trainer_headers, params={"reason": "whatever"})
    assert refused.status_code == 422
    assert client.get(INBOX, headers=trainer_headers, params={"intent": "nope"}).status_code == 422


def test_label_correct_discard_and_undo(client, trainer_headers, session, three):
    middle, low, old = three
    labelled = client.post(
        f"{INBOX}/{low}/label", headers=trainer_headers, json={"intent": "conflict_home"}
    )
    assert labelled.status_code == 200, labelled.text
    assert (labelled.json()["status"], labelled.json()["label"]) == ("accepted", "conflict_home")
    assert labelled.json()["labelled_by"] is not None
    correct = client.post(
        f"{INBOX}/{middle}/label", headers=trainer_headers, json={"correct": True}
    )
    assert (correct.json()["status"], correct.json()["label"]) == ("accepted", "parent_alcohol")
    discard = client.post(f"{INBOX}/{old}/label", headers=trainer_headers, json={"discard": True})
    assert (discard.json()["status"], discard.json()["label"]) == ("discarded", None)
    assert texts(client.get(INBOX, headers=trainer_headers)) == []
    assert texts(client.get(INBOX, headers=trainer_headers, params={"status": "all"})) == [
        "lav",
        "mellem",
        "gammel",
    ]
    undone = client.post(f"{INBOX}/{low}/undo", headers=trainer_headers)
    assert undone.status_code == 200
    assert (undone.json()["status"], undone.json()["label"], undone.json()["labelled_by"]) == (
        "open",
        None,
        None,
    )
    assert texts(client.get(INBOX, headers=trainer_headers)) == ["lav"]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-4:] == ["inbox_label", "inbox_correct", "inbox_discard", "inbox_undo"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"intent": "conflict_home", "discard": True},
        {"correct": True, "discard": True},
        {"intent": "not_an_intent"},
        {"intent": "nlu_fallback"},
    ],
)
def test_a_label_is_exactly_one_taxonomy_intent_discard_or_correct(
    client, trainer_headers, three, body
):
    response = client.post(f"{INBOX}/{three[0]}/label", headers=trainer_headers, json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_correct_needs_a_prediction_and_unknown_items_are_404(
    client, trainer_headers, session, conversation_id
):
    flagged = add(session, conversation_id, "ingen gæt", ["counsellor_flag"], None, intent=None)
    refused = client.post(
        f"{INBOX}/{flagged}/label", headers=trainer_headers, json={"correct": True}
    )
    assert refused.status_code == 409
    assert "hensigt" in refused.json()["detail"]
    missing = client.post(f"{INBOX}/999999/label", headers=trainer_headers, json={"discard": True})
    assert missing.status_code == 404
    assert client.post(f"{INBOX}/999999/undo", headers=trainer_headers).status_code == 404


def test_batch_is_all_or_nothing(client, trainer_headers, session, three):
    done = client.post(
        f"{INBOX}/batch", headers=trainer_headers, json={"ids": three[:2], "intent": "feeling_sad"}
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"updated": 2}
    assert texts(client.get(INBOX, headers=trainer_headers)) == ["gammel"]
    refused = client.post(
        f"{INBOX}/batch", headers=trainer_headers, json={"ids": [three[2], 999999], "discard": True}
    )
    assert refused.status_code == 404
    assert texts(client.get(INBOX, headers=trainer_headers)) == ["gammel"]  # nothing changed
    correct = client.post(
        f"{INBOX}/batch", headers=trainer_headers, json={"ids": [three[2]], "correct": True}
    )
    assert correct.json() == {"updated": 1}
    session.expire_all()
    assert session.get(TrainerInboxItem, three[2]).label == "feeling_guilt"
    assert (
        client.post(
            f"{INBOX}/batch", headers=trainer_headers, json={"ids": [], "discard": True}
        ).status_code
        == 422
    )


def test_the_audit_trail_names_the_action_and_the_label_never_the_text(
    client, trainer_headers, session, three
):
    client.post(f"{INBOX}/{three[0]}/label", headers=trainer_headers, json={"intent": "violence"})
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.reason, event.conversation_id) == ("inbox_label", "violence", None)
    row = " ".join(str(value) for value in vars(event).values())
    assert "mellem" not in row


def test_an_admin_may_use_the_inbox_a_counsellor_may_not(
    client, admin_headers, counsellor_headers, three
):
    assert client.get(INBOX, headers=admin_headers).status_code == 200
    refused = client.get(INBOX, headers=counsellor_headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Din rolle giver ikke adgang til dette."
    assert client.get(INBOX).status_code == 401


# -- "botten misforstod" --------------------------------------------------------------------


@pytest.fixture
def claimed(client: TestClient, counsellor_headers) -> tuple[str, dict, int]:
    """A conversation the demo counsellor holds: greeting, the young person's message (Rasa is
    down here, so the service's fallback answers it) and the bot line to flag."""
    conversation_id, young, _ = start(client)
    sent = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        headers=young,
        json={"text": "jeg hedder ida og min stedfar råber, ring 22334455"},
    )
    assert sent.status_code == 200, sent.text
    bot_line = sent.json()["messages"][0]["id"]
    claim = client.post("/api/v1/queue/claim", headers=counsellor_headers)
    assert claim.status_code == 200 and claim.json()["id"] == conversation_id
    return conversation_id, young, bot_line


def flag(client, conversation_id, message_id, headers):
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages/{message_id}/misunderstood",
        headers=headers,
    )


def test_a_counsellors_flag_puts_the_young_persons_message_before_it_in_the_inbox(
    client, counsellor_headers, trainer_headers, session, claimed
):
    conversation_id, _young, bot_line = claimed
    assert flag(client, conversation_id, bot_line, counsellor_headers).status_code == 204
    assert flag(client, conversation_id, bot_line, counsellor_headers).status_code == 204
    [item] = client.get(INBOX, headers=trainer_headers).json()
    assert item["text"] == "jeg hedder [NAVN] og min stedfar råber, ring [TELEFON]"
    assert item["reasons"] == ["counsellor_flag"]
    assert item["count"] == 1  # flagging twice counts once
    assert item["predicted_intent"] is None
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "flag_misunderstood")
    ).all()
    assert [e.conversation_id for e in events] == [conversation_id, conversation_id]


def test_only_bot_lines_of_the_conversation_can_be_flagged(
    client, counsellor_headers, session, claimed
):
    conversation_id, _young, bot_line = claimed
    young_message = session.scalar(
        select(Message.id).where(
            Message.conversation_id == conversation_id, Message.sender == "young"
        )
    )
    assert flag(client, conversation_id, young_message, counsellor_headers).status_code == 422
    assert flag(client, conversation_id, 999999, counsellor_headers).status_code == 404
    greeting = session.scalar(
        select(Message.id)
        .where(Message.conversation_id == conversation_id, Message.sender == "bot")
        .order_by(Message.id)
    )
    assert flag(client, conversation_id, greeting, counsellor_headers).status_code == 409
    other, _, _ = start(client)
    assert flag(client, other, bot_line, counsellor_headers).status_code in (404, 409)


def test_only_the_holder_or_an_admin_may_flag(client, admin_headers, session, claimed):
    conversation_id, _young, bot_line = claimed
    make_user(session, "kollega", password=COLLEAGUE_PASSWORD)
    colleague = login_headers(client, "kollega", COLLEAGUE_PASSWORD)
    refused = flag(client, conversation_id, bot_line, colleague)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Samtalen er ikke din lige nu. Tag den fra køen først."
    assert flag(client, conversation_id, bot_line, admin_headers).status_code == 204


def test_labelled_at_is_the_trainers_time(client, trainer_headers, three):
    before = utcnow()
    response = client.post(
        f"{INBOX}/{three[1]}/label", headers=trainer_headers, json={"discard": True}
    )
    assert response.json()["labelled_at"] >= before.isoformat()[:19]
