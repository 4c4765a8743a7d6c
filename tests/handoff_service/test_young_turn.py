"""A young person's turn survives a crash, a retry stores nothing twice, and recovery answers
everyone a crash left without an answer (handoff_service/young_turn.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handoff_service import young_turn as turn_module
from handoff_service.conversations import create_conversation
from handoff_service.db import utcnow
from handoff_service.models import Conversation, Message
from handoff_service.rasa_client import BotLine, CircuitBreaker, RasaClient, RasaUnavailable
from handoff_service.young_turn import answer_unanswered, young_turn
from tests.utils.service import start

CRISIS = "jeg vil ikke leve mere, jeg har taget alle pillerne"
NORMAL = "min far drikker hver aften"


class ProcessKilled(BaseException):
    """Stands for kill -9 while the service waits for Rasa: nothing after it runs."""


class FakeRasa(RasaClient):
    def __init__(self, answer=None, error: BaseException | None = None) -> None:
        super().__init__("http://127.0.0.1:1", 1, CircuitBreaker(3, 30))
        self.answer = answer or []
        self.error = error
        self.calls: list[str] = []
        self.quick: list[bool] = []

    def send(self, conversation_id: str, text: str, quick: bool = False) -> list[BotLine]:
        self.calls.append(text)
        self.quick.append(quick)
        if self.error is not None:
            raise self.error
        return list(self.answer)


@pytest.fixture
def app_parts(client: TestClient):
    state = client.app.state
    return state.settings, state.broker, state.texts


def new_conversation(session: Session) -> Conversation:
    conversation, _token = create_conversation(session)
    session.commit()
    return conversation


def fresh(client: TestClient, conversation_id: str) -> tuple[Conversation, list[Message]]:
    """What a new process would find in the database."""
    with client.app.state.session_factory() as other:
        conversation = other.get(Conversation, conversation_id)
        assert conversation is not None
        messages = list(
            other.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
        )
        other.expunge_all()
        return conversation, messages


# -- 1. a turn that survives a crash ----------------------------------------------------------


def test_crisis_is_stored_raised_and_queued_before_rasa_is_asked(client, session, app_parts):
    settings, broker, texts = app_parts
    conversation = new_conversation(session)
    seen_by_rasa: list[tuple[str, str, str]] = []

    class Observing(FakeRasa):
        def send(self, conversation_id, text, quick=False):
            # What another process sees while Rasa is being asked.
            found, messages = fresh(client, conversation_id)
            seen_by_rasa.append((found.status, found.risk, messages[-1].text))
            return [BotLine("Det lyder alvorligt.")]

    result = young_turn(session, settings, broker, texts, conversation, CRISIS, rasa=Observing())
    assert seen_by_rasa == [("queued", "critical", CRISIS)]
    assert [m.text for m in result.messages] == ["Det lyder alvorligt."]  # the bot's reply kept
    assert result.status == "queued" and result.queue is not None


def test_a_kill_while_rasa_is_asked_leaves_the_crisis_queued_at_the_front(
    client, session, app_parts
):
    settings, broker, texts = app_parts
    conversation = new_conversation(session)
    with pytest.raises(ProcessKilled):
        young_turn(
            session,
            settings,
            broker,
            texts,
            conversation,
            CRISIS,
            rasa=FakeRasa(error=ProcessKilled()),
        )
    session.rollback()
    stored, messages = fresh(client, conversation.id)
    assert [(m.sender, m.text) for m in messages] == [("young", CRISIS)]
    assert stored.status == "queued" and stored.risk == "critical"
    assert "risk_lexicon" in stored.triage["reasons"]


def test_a_conversation_deleted_while_rasa_is_asked_ends_the_turn_as_gone(
    client, session, app_parts
):
    """A purge (or the young person's own deletion) while the bot thinks: the turn says the
    conversation is gone (the route answers 404) instead of failing with a server error."""
    settings, broker, texts = app_parts
    conversation = new_conversation(session)
    conversation_id = conversation.id

    class DeletedMeanwhile(FakeRasa):
        def send(self, conversation_id, text, quick=False):
            with client.app.state.session_factory() as other:
                other.execute(delete(Message).where(Message.conversation_id == conversation_id))
                other.execute(delete(Conversation).where(Conversation.id == conversation_id))
                other.commit()
            return [BotLine("Hej")]

    with pytest.raises(turn_module.ConversationGone):
        young_turn(session, settings, broker, texts, conversation, NORMAL, rasa=DeletedMeanwhile())
    with client.app.state.session_factory() as other:
        assert other.get(Conversation, conversation_id) is None


def test_rasa_down_answers_with_the_fallback_texts_as_before(client, session, app_parts):
    settings, broker, texts = app_parts
    for text, key in ((CRISIS, "critical_without_bot"), (NORMAL, "fallback_rasa_down")):
        conversation = new_conversation(session)
        result = young_turn(
            session,
            settings,
            broker,
            texts,
            conversation,
            text,
            rasa=FakeRasa(error=RasaUnavailable()),
        )
        assert [m.text for m in result.messages] == list(texts[key]), key
        assert "112" in " ".join(m.text for m in result.messages)
        assert result.status == "queued" and result.queue is not None


# -- 2. idempotency -----------------------------------------------------------------------


def test_a_retry_with_the_same_client_message_id_returns_the_first_turn(client: TestClient):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    body = {"text": NORMAL, "client_message_id": "3f9c2a7e-retry-1"}
    first = client.post(url, json=body, headers=headers)
    again = client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    messages = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
        "messages"
    ]
    assert [m["text"] for m in messages if m["sender"] == "young"] == [NORMAL]
    # A new id is a new message, and the header carries the id as well as the body.
    client.post(url, json={"text": NORMAL}, headers={**headers, "Idempotency-Key": "k-2"})
    client.post(url, json={"text": NORMAL}, headers={**headers, "Idempotency-Key": "k-2"})
    messages = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
        "messages"
    ]
    assert [m["text"] for m in messages if m["sender"] == "young"] == [NORMAL, NORMAL]


def test_the_same_client_message_id_in_another_conversation_is_another_message(client):
    for _ in range(2):
        conversation_id, headers, _ = start(client)
        turn = client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": NORMAL, "client_message_id": "same-id"},
            headers=headers,
        )
        assert turn.status_code == 200 and turn.json()["messages"]


@pytest.mark.parametrize("bad", ["", "x" * 65, "med mellemrum", "æøå"])
def test_a_malformed_client_message_id_is_refused_in_danish(client: TestClient, bad: str):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": NORMAL, "client_message_id": bad},
        headers=headers,
    )
    assert response.status_code == 422
    assert "client_message_id" in response.json()["detail"]


def test_two_requests_racing_with_one_id_store_it_once(client, session, app_parts, monkeypatch):
    """The second request passes the look-up before the first commits; the unique index stops it."""
    settings, broker, texts = app_parts
    conversation = new_conversation(session)
    rasa = FakeRasa(answer=[BotLine("Hej")])
    first = young_turn(session, settings, broker, texts, conversation, NORMAL, "race", rasa=rasa)
    real_lookup = turn_module.earlier_turn
    calls = []

    def too_early(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(turn_module, "earlier_turn", too_early)
    second = young_turn(session, settings, broker, texts, conversation, NORMAL, "race", rasa=rasa)
    assert second == first and len(rasa.calls) == 1
    _, messages = fresh(client, conversation.id)
    assert [m.sender for m in messages] == ["young", "bot"]


# -- 3. recovery ------------------------------------------------------------------------------


def crashed_turn(session: Session, settings, broker, texts, text: str) -> str:
    conversation = new_conversation(session)
    with pytest.raises(ProcessKilled):
        young_turn(
            session,
            settings,
            broker,
            texts,
            conversation,
            text,
            rasa=FakeRasa(error=ProcessKilled()),
        )
    session.rollback()
    return conversation.id


def test_recovery_answers_every_turn_a_crash_left_unanswered(client, session, app_parts):
    settings, broker, texts = app_parts
    crisis_id = crashed_turn(session, settings, broker, texts, CRISIS)
    normal_id = crashed_turn(session, settings, broker, texts, NORMAL)
    answered_id = new_conversation(session).id
    young_turn(
        session,
        settings,
        broker,
        texts,
        session.get(Conversation, answered_id),
        NORMAL,
        rasa=FakeRasa(answer=[BotLine("Det lyder hårdt.")]),
    )
    # Just now: still a live turn, not touched.
    assert answer_unanswered(session, settings, broker, texts) == []

    later = utcnow() + timedelta(seconds=settings.unanswered_after_seconds + 30)
    assert sorted(answer_unanswered(session, settings, broker, texts, now=later)) == sorted(
        [crisis_id, normal_id]
    )
    crisis, crisis_messages = fresh(client, crisis_id)
    normal, normal_messages = fresh(client, normal_id)
    critical_lines = len(texts["critical_without_bot"])
    assert [m.sender for m in crisis_messages] == ["young"] + ["bot"] * critical_lines
    assert "Giftlinjen" in " ".join(m.text for m in crisis_messages)  # the crisis numbers
    assert [m.sender for m in normal_messages] == ["young"] + ["bot"] * len(
        texts["fallback_rasa_down"]
    )
    assert "112" in normal_messages[1].text + normal_messages[2].text
    assert crisis.status == normal.status == "queued"
    assert crisis.risk == "critical"
    # The crisis is ahead in the queue.
    positions = {
        c: turn_module.queue_ops.queue_position(session, session.get(Conversation, c))
        for c in (crisis_id, normal_id)
    }
    assert positions[crisis_id] < positions[normal_id]
    # Answered once: a second run finds nobody.
    assert answer_unanswered(session, settings, broker, texts, now=later) == []


def test_recovery_leaves_a_counsellors_conversation_alone(client, session, app_parts):
    settings, broker, texts = app_parts
    conversation_id = crashed_turn(session, settings, broker, texts, NORMAL)
    conversation = session.get(Conversation, conversation_id)
    conversation.status = "active"
    session.commit()
    later = utcnow() + timedelta(seconds=settings.unanswered_after_seconds + 30)
    assert answer_unanswered(session, settings, broker, texts, now=later) == []


def test_recovery_runs_at_start_up(settings, tmp_path):
    """A new process answers what the old one left: the job's first run is at start-up."""
    from handoff_service.main import create_app

    with TestClient(create_app(settings)) as first:
        state = first.app.state
        with state.session_factory() as db:
            conversation_id = crashed_turn(db, state.settings, state.broker, state.texts, CRISIS)
            stale = utcnow() - timedelta(seconds=settings.unanswered_after_seconds + 60)
            db.execute(
                Message.__table__.update()
                .where(Message.conversation_id == conversation_id)
                .values(created_at=stale)
            )
            db.execute(
                Conversation.__table__.update()
                .where(Conversation.id == conversation_id)
                .values(updated_at=stale)
            )
            db.commit()
    restarted = settings.model_copy(update={"background_jobs": True})
    with TestClient(create_app(restarted)) as second:
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, messages = fresh(second, conversation_id)
            if len(messages) > 1:
                break
            time.sleep(0.1)
    assert [m.sender for m in messages][:2] == ["young", "bot"]
    assert "112" in messages[1].text
