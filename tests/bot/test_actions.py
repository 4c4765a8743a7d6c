"""Custom actions run with rasa-sdk's CollectingDispatcher on tracker fixtures.

The handoff service is replaced at its thin client boundary (bot/actions/handoff_client.py);
the end-to-end tests run the real one.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import actions, handoff_client

CLOSED = {"shift_open": False, "next_shift_text": "mandag kl. 17", "current_shift_end_text": None,
          "waiting_count": 0, "eta_minutes": 30}
OPEN = {"shift_open": True, "next_shift_text": "i morgen kl. 17", "current_shift_end_text": "kl. 21",
        "waiting_count": 2, "eta_minutes": 20}


def user_event(intent: str, text: str = "...", entities: list[dict] | None = None) -> dict[str, Any]:
    return {"event": "user", "text": text,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}}


def tracker(intent: str, *, slots: dict | None = None, history: list[dict] | None = None,
            entities: list[dict] | None = None) -> Tracker:
    events = [*(history or []), user_event(intent, entities=entities)]
    return Tracker.from_dict({
        "sender_id": "11111111-2222-3333-4444-555555555555",
        "slots": slots or {},
        "latest_message": events[-1]["parse_data"] | {"text": "..."},
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    })


class FakeService:
    """Records what the actions tell the handoff service and answers like it."""

    def __init__(self, status: dict | None, fail: bool = False) -> None:
        self.status, self.fail = status, fail
        self.handoffs: list[dict] = []
        self.triage_updates: list[dict] = []

    def install(self, monkeypatch) -> FakeService:
        monkeypatch.setattr(handoff_client, "service_status", self._service_status)
        monkeypatch.setattr(handoff_client, "hand_off", self._hand_off)
        monkeypatch.setattr(handoff_client, "update_triage", self._update_triage)
        monkeypatch.setattr(handoff_client, "queue_state", self._queue_state)
        return self

    def _check(self) -> None:
        if self.fail:
            raise handoff_client.HandoffUnavailable

    def _service_status(self):
        self._check()
        return self.status

    def _hand_off(self, conversation_id, triage):
        self._check()
        self.handoffs.append(triage)
        return {"status": "queued", "queue": {"position": 1, "eta_minutes": 20, "shift_open": self.status["shift_open"],
                                              "next_shift_text": self.status["next_shift_text"], "waiting_count": 1}}

    def _update_triage(self, conversation_id, triage):
        self._check()
        self.triage_updates.append(triage)
        return {"status": "bot", "queue": None}

    def _queue_state(self, conversation_id):
        self._check()
        if self.handoffs:
            return self._hand_off(conversation_id, self.handoffs[-1])
        return {"status": "bot", "queue": None}


def run(action, tracker_: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker_, {})
    return dispatcher.messages, events


def texts(messages: list[dict]) -> str:
    return " ".join(m["text"] for m in messages if m.get("text"))


def responses(messages: list[dict]) -> list[str]:
    return [m["response"] for m in messages if m.get("response")]


def test_greeting_when_closed_says_when_the_next_shift_starts(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, _ = run(actions.ActionGreet(), tracker("greet"))
    assert responses(messages)[:3] == ["utter_greet_welcome", "utter_greet_closed", "utter_greet_closed_offer"]
    closed = next(m for m in messages if m.get("response") == "utter_greet_closed")
    assert closed["next_shift_text"] == "mandag kl. 17"


def test_greeting_when_open_asks_what_it_is_about(monkeypatch):
    FakeService(OPEN).install(monkeypatch)
    messages, _ = run(actions.ActionGreet(), tracker("greet"))
    assert responses(messages)[:2] == ["utter_greet_welcome", "utter_greet_open"]
    assert "utter_greet_closed" not in responses(messages)


def test_greeting_without_the_service_is_honest_that_it_does_not_know(monkeypatch):
    FakeService(None, fail=True).install(monkeypatch)
    messages, _ = run(actions.ActionGreet(), tracker("greet"))
    assert "utter_greet_closed_unknown" in responses(messages)


def test_topic_support_validates_then_teaches_then_offers_and_never_repeats(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    first_messages, first_events = run(actions.ActionTopicSupport(), tracker("parent_alcohol"))
    given = next(e["value"] for e in first_events if e["name"] == "content_given")
    assert len(given) == 2
    library = actions.library()
    assert library.get(given[0]).kind == "validation"
    assert library.get(given[1]).kind == "psychoeducation"
    assert responses(first_messages)[-1] == "utter_offer_counsellor"
    assert SlotSet("last_offer", "counsellor") in first_events

    second_messages, second_events = run(
        actions.ActionTopicSupport(), tracker("parent_alcohol", slots={"content_given": given})
    )
    given_again = next(e["value"] for e in second_events if e["name"] == "content_given")
    assert set(given_again) > set(given)
    assert texts(second_messages) != texts(first_messages)
    assert service.triage_updates[-1]["topic"] == "parent_alcohol"


def test_crisis_sends_emergency_numbers_first_and_queues_critical(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = run(actions.ActionCrisis(), tracker("suicidal"))
    first_text = messages[0]["text"]
    assert first_text  # content, not a queue message, comes first
    assert "112" in texts(messages) and "70 201 201" in texts(messages)
    assert service.handoffs[0]["risk"] == "critical"
    assert responses(messages)[-1] == "utter_crisis_queue_closed"
    assert SlotSet("risk", "critical") in events


def test_crisis_still_gives_numbers_when_the_queue_is_down(monkeypatch):
    FakeService(CLOSED, fail=True).install(monkeypatch)
    messages, _ = run(actions.ActionCrisis(), tracker("immediate_danger"))
    assert "112" in texts(messages)
    assert "utter_queue_failed" in responses(messages)


def test_violence_is_validated_and_queued_high(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    messages, _ = run(actions.ActionViolence(), tracker("violence"))
    assert service.handoffs[0]["risk"] == "high"
    assert "utter_high_risk_queued" in responses(messages)


def test_request_human_queues_at_once_then_asks_what_it_is_about(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    messages, events = run(actions.ActionHandoff(), tracker("request_human"))
    assert len(service.handoffs) == 1
    queued = next(m for m in messages if m.get("response") == "utter_queued_open")
    assert queued["queue_position"] == 1
    assert responses(messages)[-1] == "utter_ask_topic_while_waiting"
    assert SlotSet("handed_off", True) in events


def test_handoff_passes_topic_entities_and_content_given(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    history = [user_event("parent_alcohol", entities=[{"entity": "carer", "value": "far"},
                                                      {"entity": "substance", "value": "alkohol"}])]
    run(actions.ActionHandoff(), tracker("request_human", history=history, slots={"content_given": ["x1"]}))
    triage = service.handoffs[0]
    assert triage["topic"] == "parent_alcohol"
    assert triage["entities"] == {"carer": ["far"], "substance": ["alkohol"]}
    assert "x1" in triage["content_given"]


def test_yes_to_an_offer_queues_and_no_keeps_talking(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    run(actions.ActionAnswerOffer(), tracker("deny", slots={"last_offer": "counsellor"}))
    assert service.handoffs == []
    run(actions.ActionAnswerOffer(), tracker("affirm", slots={"last_offer": "counsellor"}))
    assert len(service.handoffs) == 1


@pytest.mark.parametrize(("fallbacks_before", "expected"), [(0, "utter_fallback"), (1, "utter_fallback_offer_counsellor")])
def test_second_fallback_in_a_row_offers_a_counsellor(monkeypatch, fallbacks_before, expected):
    FakeService(OPEN).install(monkeypatch)
    history = [user_event("nlu_fallback") for _ in range(fallbacks_before)]
    messages, _ = run(actions.ActionFallback(), tracker("nlu_fallback", history=history))
    assert responses(messages) == [expected]
