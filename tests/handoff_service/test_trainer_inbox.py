"""The trainer's inbox (handoff_service/trainer_inbox.py): what a turn with the bot puts in it,
scrubbed and merged, with nothing that leads back to a conversation, and what retention leaves."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from handoff_service import trainer_inbox as inbox
from handoff_service.conversations import create_conversation
from handoff_service.db import utcnow
from handoff_service.models import Conversation, User
from handoff_service.rasa_client import BotLine, BotReply, CircuitBreaker, RasaClient, bot_reply
from handoff_service.retention import purge_expired
from handoff_service.trainer_inbox import TrainerInboxItem, TrainerInboxSource
from handoff_service.young_turn import young_turn

SURE = {
    "intent": "parent_alcohol",
    "confidence": 0.93,
    "ranking": [
        {"intent": "parent_alcohol", "confidence": 0.93},
        {"intent": "parent_drugs", "confidence": 0.04},
    ],
    "fallback": False,
}
UNSURE = {
    "intent": "nlu_fallback",
    "confidence": 0.35,
    "ranking": [
        {"intent": "nlu_fallback", "confidence": 0.35},
        {"intent": "feeling_sad", "confidence": 0.22},
        {"intent": "conflict_home", "confidence": 0.2},
        {"intent": "feeling_anxious", "confidence": 0.11},
        {"intent": "out_of_scope", "confidence": 0.05},
    ],
    "fallback": True,
}
CLOSE_CALL = {
    "intent": "parent_alcohol",
    "confidence": 0.48,
    "ranking": [
        {"intent": "parent_alcohol", "confidence": 0.48},
        {"intent": "parent_drugs", "confidence": 0.41},
    ],
    "fallback": False,
}
LIFTED = {
    "intent": "suicidal",
    "confidence": 1.0,
    "ranking": [
        {"intent": "suicidal", "confidence": 1.0},
        {"intent": "feeling_sad", "confidence": 0.71},
        {"intent": "feeling_guilt", "confidence": 0.12},
    ],
    "safety_net": {
        "intent": "suicidal",
        "original_intent": "feeling_sad",
        "original_confidence": 0.71,
        "rule_id": "suicidal_no_point",
    },
    "fallback": False,
}
PERSONAL = (
    "jeg hedder emma og min mor drikker, ring 22334455 eller emma.h@gmail.com, cpr 120307-1234"
)


class FakeRasa(RasaClient):
    """Answers every message with one line and the given NLU summary, as the action server does."""

    def __init__(self, nlu: dict | None) -> None:
        super().__init__("http://127.0.0.1:1", 1, CircuitBreaker(3, 30))
        self.nlu = nlu

    def send(self, conversation_id: str, text: str, quick: bool = False) -> list[BotLine]:
        return BotReply([BotLine("Det lyder svært.")], self.nlu)


@pytest.fixture
def turn(client: TestClient, session: Session):
    state = client.app.state

    def run(conversation: Conversation, message: str, nlu: dict | None):
        return young_turn(
            session,
            state.settings,
            state.broker,
            state.texts,
            conversation,
            message,
            rasa=FakeRasa(nlu),
        )

    return run


def new_conversation(session: Session) -> Conversation:
    conversation, _token = create_conversation(session)
    session.commit()
    return conversation


def items(session: Session) -> list[TrainerInboxItem]:
    session.expire_all()
    return list(session.scalars(select(TrainerInboxItem).order_by(TrainerInboxItem.id)))


# -- reasons ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nlu", "reasons"),
    [
        (SURE, []),
        (None, []),
        (UNSURE, ["below_threshold", "ambiguous", "bare_fallback"]),
        (CLOSE_CALL, ["ambiguous"]),
        (LIFTED, ["safety_net"]),
        (
            {**SURE, "ranking": [{"intent": "greet", "confidence": 0.3}]},
            ["below_threshold"],
        ),
        ({**SURE, "fallback": True}, ["bare_fallback"]),
    ],
)
def test_reasons_come_from_the_parse_data(nlu, reasons):
    assert inbox.inbox_reasons(nlu, threshold=0.35, margin=0.1) == reasons


def test_the_fallback_threshold_is_read_from_the_bots_config():
    assert inbox.fallback_threshold() == 0.35


def test_the_rest_channels_custom_item_is_kept_beside_the_lines_never_shown():
    reply = bot_reply(
        [
            {"recipient_id": "x", "text": "Hej"},
            {"recipient_id": "x", "text": "Hvad vil du?", "buttons": [{"title": "Ja"}]},
            {"recipient_id": "x", "custom": {"nlu": UNSURE}},
        ]
    )
    assert list(reply) == [BotLine("Hej"), BotLine("Hvad vil du?", ("Ja",))]
    assert reply.nlu == UNSURE


# -- collection in the turn ------------------------------------------------------------------


def test_an_unsure_turn_puts_the_scrubbed_message_with_its_prediction_in_the_inbox(session, turn):
    conversation = new_conversation(session)
    turn(conversation, "min far er mærkelig i dag", UNSURE)
    [item] = items(session)
    assert item.text == "min far er mærkelig i dag"
    assert item.reasons == ["below_threshold", "ambiguous", "bare_fallback"]
    assert (item.predicted_intent, item.confidence) == ("feeling_sad", 0.22)
    assert item.alternatives == [
        {"intent": "feeling_sad", "confidence": 0.22},
        {"intent": "conflict_home", "confidence": 0.2},
        {"intent": "feeling_anxious", "confidence": 0.11},
    ]
    assert (item.count, item.status, item.label) == (1, "open", None)
    assert isinstance(item.day, date)


def test_a_sure_turn_and_a_turn_without_rasa_data_add_nothing(session, turn):
    conversation = new_conversation(session)
    turn(conversation, "min mor drikker hver aften", SURE)
    turn(conversation, "min mor drikker igen", None)
    assert items(session) == []


def test_the_safety_net_reason_keeps_the_classifiers_view_and_the_rule(session, turn):
    conversation = new_conversation(session)
    turn(conversation, "der er ingen mening med noget", LIFTED)
    [item] = items(session)
    assert item.reasons == ["safety_net"]
    assert (item.predicted_intent, item.confidence) == ("feeling_sad", 0.71)
    assert item.lexicon_concept == "suicidal_no_point"


def test_only_messages_written_to_the_bot_are_collected(session, turn):
    queued = new_conversation(session)
    queued.status = "queued"
    queued.queued_at = utcnow()
    closed = new_conversation(session)
    closed.status, closed.closed_at = "closed", utcnow()
    active = new_conversation(session)
    active.status = "active"
    session.commit()
    for conversation in (queued, closed, active):
        turn(conversation, "hvad sker der nu", UNSURE)
    assert items(session) == []


def test_the_same_text_merges_into_one_item_with_a_count(session, turn):
    first, second = new_conversation(session), new_conversation(session)
    turn(first, "ved ik hvad jeg skal", UNSURE)
    turn(second, "Ved ik  hvad jeg skal", CLOSE_CALL)  # case and spacing do not matter
    turn(first, "ved ik hvad jeg skal", UNSURE)
    [item] = items(session)
    assert item.count == 3
    assert item.reasons == ["below_threshold", "ambiguous", "bare_fallback"]
    sources = session.scalars(select(TrainerInboxSource.conversation_id)).all()
    assert sorted(sources) == sorted([first.id, second.id])


def test_only_the_scrubbed_text_is_stored(session, turn):
    conversation = new_conversation(session)
    turn(conversation, PERSONAL, UNSURE)
    [item] = items(session)
    assert item.text == (
        "jeg hedder [NAVN] og min mor drikker, ring [TELEFON] eller [EMAIL], cpr [CPR]"
    )
    dump = " ".join(
        str(row) for row in session.execute(text("SELECT * FROM trainer_inbox_items")).all()
    )
    for secret in ("emma", "22334455", "gmail", "120307"):
        assert secret not in dump.lower()


def test_the_item_table_has_no_conversation_and_no_time_finer_than_the_day(session):
    columns = {
        column["name"]: column
        for column in inspect(session.get_bind()).get_columns("trainer_inbox_items")
    }
    assert "conversation_id" not in columns and "created_at" not in columns
    assert str(columns["day"]["type"]).upper() == "DATE"
    # The timestamps are the staff's own actions (labelled_at; exported_at, when the export
    # wrote it into data/nlu), never the young person's.
    timestamps = [name for name, column in columns.items() if "TIME" in str(column["type"]).upper()]
    assert timestamps == ["labelled_at", "exported_at"]
    foreign = inspect(session.get_bind()).get_foreign_keys("trainer_inbox_items")
    assert [key["referred_table"] for key in foreign] == ["users"]


# -- retention --------------------------------------------------------------------------------


def expire(session: Session, conversation: Conversation, settings) -> None:
    conversation.updated_at = utcnow() - timedelta(days=settings.retention_days + 1)
    session.commit()


def test_retention_deletes_unlabelled_items_with_their_last_conversation(session, settings, turn):
    old, recent = new_conversation(session), new_conversation(session)
    turn(old, "kun i den gamle", UNSURE)
    turn(old, "i dem begge", UNSURE)
    turn(recent, "i dem begge", UNSURE)
    discarded = [i for i in items(session) if i.text == "kun i den gamle"][0]
    discarded.status = "discarded"
    session.commit()
    expire(session, old, settings)
    assert purge_expired(session, settings, utcnow()).conversations == 1
    left = items(session)
    assert [i.text for i in left] == ["i dem begge"]  # still has a living conversation
    assert session.scalars(select(TrainerInboxSource.conversation_id)).all() == [recent.id]
    expire(session, recent, settings)
    purge_expired(session, settings, utcnow())
    assert items(session) == []
    assert session.scalar(select(func.count()).select_from(TrainerInboxSource)) == 0


def test_retention_keeps_an_accepted_item_as_text_and_label_only(session, settings, turn):
    conversation = new_conversation(session)
    turn(conversation, "han er sådan igen", UNSURE)
    [item] = items(session)
    trainer = session.scalar(select(User).where(User.username == "demo-traener"))
    assert trainer is not None
    inbox.label_item(session, item.id, inbox.LabelIn(intent="conflict_home"), trainer)
    session.commit()
    expire(session, conversation, settings)
    purge_expired(session, settings, utcnow())
    [kept] = items(session)
    assert (kept.text, kept.status, kept.label) == (
        "han er sådan igen",
        "accepted",
        "conflict_home",
    )
    assert session.scalar(select(func.count()).select_from(TrainerInboxSource)) == 0
    assert session.get(Conversation, conversation.id) is None
