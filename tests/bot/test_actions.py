"""Custom actions run with rasa-sdk's CollectingDispatcher on tracker fixtures.

The handoff service is replaced at its thin client boundary (bot/actions/handoff_client.py);
the end-to-end tests run the real one.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import actions, handoff_client

CLOSED = {
    "shift_open": False,
    "next_shift_text": "mandag kl. 17",
    "current_shift_end_text": None,
    "waiting_count": 0,
    "eta_minutes": 30,
}
OPEN = {
    "shift_open": True,
    "next_shift_text": "i morgen kl. 17",
    "current_shift_end_text": "kl. 21",
    "waiting_count": 2,
    "eta_minutes": 20,
}


def user_event(
    intent: str, text: str = "...", entities: list[dict] | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "text": text,
        },
    }


def tracker(
    intent: str,
    text: str = "...",
    *,
    slots: dict | None = None,
    history: list[dict] | None = None,
    entities: list[dict] | None = None,
) -> Tracker:
    events = [*(history or []), user_event(intent, text, entities=entities)]
    return Tracker.from_dict(
        {
            "sender_id": "11111111-2222-3333-4444-555555555555",
            "slots": slots or {},
            "latest_message": events[-1]["parse_data"],
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


class FakeService:
    """Records what the actions tell the handoff service and answers like it."""

    def __init__(self, status: dict | None, fail: bool = False) -> None:
        self.status, self.fail = status, fail
        self.eta_minutes = 20
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

    def _service_status(self, conversation_id=None):
        self._check()
        return self.status

    def _hand_off(self, conversation_id, triage):
        self._check()
        self.handoffs.append(triage)
        return self._queued()

    def _queued(self):
        return {
            "status": "queued",
            "queue": {
                "position": 1,
                "eta_minutes": self.eta_minutes,
                "shift_open": self.status["shift_open"],
                "next_shift_text": self.status["next_shift_text"],
                "waiting_count": 1,
            },
        }

    def _update_triage(self, conversation_id, triage):
        self._check()
        self.triage_updates.append(triage)
        return {"status": "bot", "queue": None}

    def _queue_state(self, conversation_id):
        self._check()
        if self.handoffs:
            return self._queued()
        return {"status": "bot", "queue": None}


def run(action, tracker_: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker_, {})
    return dispatcher.messages, events


def respond(tracker_: Tracker) -> tuple[list[dict], list]:
    return run(actions.ActionRespond(), tracker_)


def texts(messages: list[dict]) -> str:
    return " ".join(m["text"] for m in messages if m.get("text"))


def responses(messages: list[dict]) -> list[str]:
    return [m["response"] for m in messages if m.get("response")]


def slot(events: list, name: str) -> Any:
    values = [e["value"] for e in events if e.get("event") == "slot" and e["name"] == name]
    return values[-1] if values else None


def given_items(events: list) -> list[str]:
    return list(slot(events, "content_given") or [])


def test_greeting_when_closed_says_when_the_next_shift_starts(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, _ = run(actions.ActionGreet(), tracker("greet"))
    assert responses(messages) == [
        "utter_greet_welcome",
        "utter_greet_closed",
        "utter_greet_closed_offer",
    ]
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
    first_messages, first_events = respond(tracker("parent_alcohol", "min far drikker"))
    given = given_items(first_events)
    library = actions.library()
    assert {library.get(i).kind for i in given} <= {"validation", "psychoeducation"}
    assert any(library.get(i).kind == "psychoeducation" for i in given)
    assert responses(first_messages)[-1] == "utter_offer_counsellor"
    assert len(first_messages) <= 3
    assert slot(first_events, "last_offer") == "counsellor"
    assert slot(first_events, "active_topic") == "parent_alcohol"

    second_messages, second_events = respond(
        tracker("parent_alcohol", "han drikker igen", slots={"content_given": given})
    )
    assert set(given_items(second_events)) > set(given)
    assert texts(second_messages) != texts(first_messages)
    assert service.triage_updates[-1]["topic"] == "parent_alcohol"


def test_the_carer_the_young_person_named_replaces_mor_eller_far(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    seen = ""
    given: list[str] = []
    for _ in range(4):
        messages, events = respond(
            tracker(
                "parent_alcohol",
                "min far drikker",
                slots={"carer": ["far"], "content_given": given},
            )
        )
        seen += texts(messages)
        given = given_items(events)
    assert "mor eller far" not in seen
    assert "din far" in seen


def test_the_queue_offer_is_not_made_to_someone_already_queued(monkeypatch):
    FakeService(OPEN).install(monkeypatch)
    messages, events = respond(
        tracker("feeling_sad", "jeg er så ked af det", slots={"handed_off": True})
    )
    assert "utter_offer_counsellor" not in responses(messages)
    assert slot(events, "last_offer") is None
    assert 1 <= len(messages) <= 3


@pytest.mark.parametrize(
    ("intent", "text", "must", "must_not"),
    [
        # an unconscious parent: stay, 112, recovery position, unlock the door; never "leave"
        (
            "immediate_danger",
            "min mor er faldet om og vågner ikke",
            ["112", "siden", "Lås hoveddøren op"],
            ["et rum du kan låse", "udenfor"],
        ),
        # own overdose: 112 or Giftlinjen, never "lock yourself in"
        (
            "immediate_danger",
            "jeg har taget en masse piller",
            ["112", "82 12 12 12", "lås dig ikke inde"],
            ["et rum du kan låse"],
        ),
        # what the classifier misses, the lexicon's kind still decides: own use + pills
        (
            "own_substance_use",
            "drak en halv flaske vodka og tog en hel pakke af mors piller oveni",
            ["82 12 12 12"],
            ["et rum du kan låse"],
        ),
        ("immediate_danger", "min far slår min mor lige nu", ["112", "gå imellem"], ["Giftlinjen"]),
        ("immediate_danger", "han står i køkkenet med en kniv", ["112", "våbnet"], ["Giftlinjen"]),
        (
            "immediate_danger",
            "far vil køre os hjem og han er stiv",
            ["Sæt dig ikke ind i bilen", "112"],
            ["et rum du kan låse"],
        ),
        ("suicidal", "jeg vil ikke leve mere", ["112", "116 111"], ["et rum du kan låse"]),
    ],
)
def test_danger_gets_the_guidance_for_its_kind_number_first(
    monkeypatch, intent, text, must, must_not
):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(tracker(intent, text))
    said = texts(messages)
    for phrase in must:
        assert phrase in said, (text, said)
    for phrase in must_not:
        assert phrase not in said, (text, said)
    assert any(ch.isdigit() for ch in messages[0]["text"])  # the number is in the first bubble
    assert len(messages) <= 3
    assert service.handoffs[-1]["risk"] == "critical"
    assert slot(events, "risk") == "critical"
    assert responses(messages)[-1].startswith("utter_crisis_queue")


def test_a_knife_after_a_violence_message_gets_the_weapon_guidance(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    _, events = respond(tracker("violence", "min far slog mig i går"))
    assert slot(events, "risk") == "high"
    messages, events = respond(
        tracker(
            "immediate_danger",
            "nu står han med en kniv",
            slots={"risk": "high", "handed_off": True},
        )
    )
    said = texts(messages)
    assert "våbnet" in said and "112" in said
    assert "ikke kan vækkes" not in said and "har taget for meget" not in said
    assert slot(events, "danger_kind") == "weapon"


@pytest.mark.parametrize(
    ("first", "again", "kind"),
    [
        (
            "hjælp min far slår min mor lige nu",
            "jeg har låst mig inde og han står udenfor og råber",
            "violence_now",
        ),
        ("min mor er bevidstløs", "hun trækker vejret men vågner stadig ikke", "unconscious"),
        ("jeg har taget 20 panodiler", "jeg har taget flere piller nu", "overdose"),
    ],
)
def test_the_same_danger_said_again_gets_the_next_guidance_not_a_copy(
    monkeypatch, first, again, kind
):
    FakeService(CLOSED).install(monkeypatch)
    first_messages, first_events = respond(tracker("immediate_danger", first))
    assert slot(first_events, "danger_kind") == kind
    messages, events = respond(
        tracker(
            "immediate_danger",
            again,
            slots={
                "risk": "critical",
                "danger_kind": kind,
                "handed_off": True,
                "content_given": given_items(first_events),
            },
        )
    )
    said = [m["text"] for m in messages if m.get("text")]
    assert "112" in said[0]  # the number still comes first
    assert not set(said) & {m["text"] for m in first_messages if m.get("text")}, said
    assert slot(events, "danger_kind") == kind
    assert len(messages) <= 3


def test_crisis_still_gives_numbers_when_the_queue_is_down(monkeypatch):
    FakeService(CLOSED, fail=True).install(monkeypatch)
    messages, _ = respond(tracker("immediate_danger", "min mor trækker ikke vejret"))
    assert "112" in texts(messages)
    assert "utter_queue_failed" in responses(messages)


CRISIS = {"risk": "critical", "danger_kind": "overdose", "handed_off": True}


@pytest.mark.parametrize(
    ("intent", "text", "expect"),
    [
        ("nlu_fallback", "hvad skal jeg gøre nu", "followup_what_to_do_overdose"),
        ("immediate_danger", "hva gør jeg nu??", "followup_what_to_do_overdose"),
        ("nlu_fallback", "er det farligt", "followup_is_dangerous_intoxicated"),
        ("feeling_anxious", "jeg tør ikke ringe", "followup_afraid_to_call_overdose"),
        ("bot_challenge", "du kan alligevel ikke hjælpe mig", "followup_cannot_help_danger"),
        ("ask_anonymity", "ringer i til kommunen?", "followup_will_you_report"),
        ("nlu_fallback", "hvad hvis jeg skriver hvor jeg bor", "followup_location_danger"),
        ("out_of_scope", "det er sket før", "followup_happened_before_danger"),
        ("nlu_fallback", "asdfgh", "followup_not_understood_danger"),
        ("out_of_scope", "hvad er klokken", "followup_not_understood_danger"),
    ],
)
def test_follow_ups_after_a_danger_are_answered_in_its_context(monkeypatch, intent, text, expect):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(tracker(intent, text, slots=dict(CRISIS)))
    assert expect in given_items(events), (text, given_items(events))
    assert "utter_fallback" not in responses(messages)
    assert "utter_offer_counsellor" not in responses(messages)  # already queued
    assert slot(events, "risk") == "critical"  # never goes down
    assert len(messages) <= 3
    assert not service.handoffs or service.handoffs[-1]["risk"] == "critical"


def test_safe_now_is_an_answer_not_a_new_emergency(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker(
            "immediate_danger",
            "ja jeg er i sikkerhed nu, han er gået i seng",
            slots={"risk": "critical", "danger_kind": "violence_now", "handed_off": True},
        )
    )
    assert given_items(events) == ["followup_safe_now"]
    assert slot(events, "risk") == "critical"
    assert "et rum du kan låse" not in texts(messages)


def test_a_suicidal_message_taken_back_keeps_the_risk_and_is_answered_gently(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker(
            "nlu_fallback",
            "haha nej det var bare for sjov",
            slots={"risk": "critical", "danger_kind": "suicidal", "handed_off": True},
        )
    )
    assert "followup_taking_back" in given_items(events)
    assert "utter_fallback" not in responses(messages)
    assert slot(events, "risk") == "critical"


def test_a_reassuring_message_in_a_calm_conversation_raises_no_alarm(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    messages, events = respond(tracker("immediate_danger", "nej jeg er ikke i fare lige nu"))
    assert responses(messages) == ["utter_glad_you_are_ok"]
    assert service.handoffs == []
    assert slot(events, "risk") == "normal"


def test_afraid_of_a_shouting_father_gets_the_safety_question_and_no_escalates(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker("feeling_anxious", "jeg er så bange når min far råber", slots={"carer": ["far"]})
    )
    assert responses(messages)[-1] == "utter_ask_safe"
    assert slot(events, "last_offer") == "safety"
    assert "bekymret for" not in texts(messages)

    messages, events = respond(
        tracker("deny", "Nej, jeg er ikke i sikkerhed", slots={"last_offer": "safety"})
    )
    assert "112" in messages[0]["text"]
    assert service.handoffs[-1]["risk"] == "critical"

    messages, events = respond(
        tracker("affirm", "Ja, jeg er i sikkerhed", slots={"last_offer": "safety"})
    )
    assert "followup_safe_now" in given_items(events)


def test_own_use_follow_ups_stay_with_own_use(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    slots = {"active_topic": "own_substance_use"}
    _, events = respond(tracker("parent_drugs", "er det farligt?", slots=dict(slots)))
    assert "followup_is_dangerous_own_use" in given_items(events)
    _, events = respond(
        tracker("ask_anonymity", "hvad kan jeg selv gøre for at stoppe", slots=dict(slots))
    )
    assert "followup_how_to_stop_own_use" in given_items(events)


def test_violence_is_queued_high_and_asks_whether_they_are_safe(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    messages, events = respond(tracker("violence", "min stedfar slår mig når han er fuld"))
    assert service.handoffs[0]["risk"] == "high"
    assert responses(messages)[-1] == "utter_ask_safe"
    assert "utter_queue_open" in responses(messages)
    assert len(messages) <= 3


def test_request_human_queues_at_once_says_how_to_come_back_and_asks(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    messages, events = respond(tracker("request_human", "kan jeg tale med et menneske"))
    assert len(service.handoffs) == 1
    queued = next(m for m in messages if m.get("response") == "utter_queue_open")
    assert queued["queue_position"] == 1
    assert responses(messages)[1:] == ["utter_come_back", "utter_ask_topic_while_waiting"]
    assert slot(events, "handed_off") is True


def test_a_long_closed_wait_is_said_in_hours(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    service.eta_minutes = 540
    messages, _ = respond(tracker("request_human", "jeg vil snakke med en"))
    queued = next(m for m in messages if m.get("response") == "utter_queue_closed_hours")
    assert queued["eta_hours"] == 9 and queued["next_shift_text"] == "mandag kl. 17"


def test_asking_for_a_human_twice_does_not_queue_twice(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    respond(tracker("request_human", "rådgiver"))
    messages, _ = respond(tracker("request_human", "rådgiver nu", slots={"handed_off": True}))
    assert responses(messages) == ["utter_already_queued"]
    assert len(service.handoffs) == 1


def test_handoff_passes_topic_entities_and_content_given(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    history = [
        user_event(
            "parent_alcohol",
            entities=[
                {"entity": "carer", "value": "far"},
                {"entity": "substance", "value": "alkohol"},
            ],
        )
    ]
    respond(tracker("request_human", "rådgiver", history=history, slots={"content_given": ["x1"]}))
    triage = service.handoffs[0]
    assert triage["topic"] == "parent_alcohol"
    assert triage["entities"] == {"carer": ["far"], "substance": ["alkohol"]}
    assert "x1" in triage["content_given"]


def test_yes_to_an_offer_queues_and_no_keeps_talking(monkeypatch):
    service = FakeService(OPEN).install(monkeypatch)
    respond(tracker("deny", "Nej, ikke nu", slots={"last_offer": "counsellor"}))
    assert service.handoffs == []
    respond(tracker("affirm", "ja", slots={"last_offer": "counsellor"}))
    assert len(service.handoffs) == 1


@pytest.mark.parametrize(
    ("fallbacks_before", "expected"),
    [(0, "utter_fallback"), (1, "utter_fallback_offer_counsellor")],
)
def test_second_fallback_in_a_row_offers_a_counsellor(monkeypatch, fallbacks_before, expected):
    FakeService(OPEN).install(monkeypatch)
    history = [user_event("nlu_fallback") for _ in range(fallbacks_before)]
    messages, _ = respond(tracker("nlu_fallback", "xyz qwe", history=history))
    assert responses(messages) == [expected]


def test_a_closed_line_is_never_recommended_without_an_open_one(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    monkeypatch.setenv("BOT_NOW", "2026-12-01T07:00:00+01:00")  # Livslinien opens at 11
    messages, _ = respond(tracker("suicidal", "jeg vil ikke leve mere"))
    said = texts(messages)
    assert "70 201 201 (åbner kl. 11)" in said
    assert "116 111" in said


def test_a_fight_told_in_the_present_is_danger_now_even_when_nothing_else_said_so(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(tracker("conflict_home", "de skændes derinde og han slår hende nu"))
    assert slot(events, "danger_kind") == "violence_now"
    assert "112" in messages[0]["text"]
    assert service.handoffs[-1]["risk"] == "critical"
    # ... but a habit is not now
    _, events = respond(tracker("violence", "han slår hende nu og da når han drikker"))
    assert slot(events, "danger_kind") is None


def test_a_hint_refines_self_harm_to_bleeding(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(tracker("self_harm", "jeg har skåret mig og det bløder igennem"))
    assert slot(events, "danger_kind") == "bleeding"
    assert "Tryk hårdt på såret" in messages[0]["text"]


def test_breathing_again_is_heard_as_an_answer_with_what_to_watch_for(monkeypatch):
    FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker(
            "immediate_danger",
            "hun trækker vejret nu og sover",
            slots={"risk": "critical", "danger_kind": "unconscious", "handed_off": True},
        )
    )
    assert given_items(events) in (["followup_safe_now_watch"], ["followup_safe_now"])
    assert "112" in texts(messages)
    assert slot(events, "risk") == "critical"


def test_thrown_out_with_nowhere_to_go_is_danger_tonight_unless_told_as_past(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    _, events = respond(tracker("conflict_home", "min stedfar smed mig ud og mor siger ingenting"))
    assert slot(events, "danger_kind") == "locked_out"
    assert service.handoffs[-1]["risk"] == "critical"
    _, events = respond(tracker("conflict_home", "min stedfar smed mig ud sidste år"))
    assert slot(events, "danger_kind") is None


@pytest.mark.parametrize(
    "text",
    [
        "min mor råber hele tiden nu",  # shouting: the safety question, not an emergency
        "min far har taget noget igen i aften",  # a parent's use: a topic
        "min mor drikker en flaske vin hver aften nu",
        "min far kører mig i skole nu",
    ],
)
def test_ordinary_home_messages_told_in_the_present_raise_no_emergency(monkeypatch, text):
    service = FakeService(CLOSED).install(monkeypatch)
    intent = "conflict_home" if "kører" in text else "parent_alcohol"
    _, events = respond(tracker(intent, text))
    assert slot(events, "danger_kind") is None, text
    assert all(h["risk"] != "critical" for h in service.handoffs)


def test_in_a_crisis_danger_words_are_about_the_danger_whatever_topic_the_classifier_reads(
    monkeypatch,
):
    FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker(
            "feeling_anxious",
            "nu har jeg taget 3 mere og mit hjerte banker helt vildt",
            slots={"risk": "critical", "danger_kind": "overdose", "handed_off": True},
        )
    )
    assert slot(events, "danger_kind") == "overdose"
    assert "112" in texts(messages)


def test_a_parent_coming_for_the_young_person_drunk_is_no_reassurance(monkeypatch):
    service = FakeService(CLOSED).install(monkeypatch)
    messages, events = respond(
        tracker(
            "parent_alcohol",
            "min far er kommet for at hente mig og han stinker af øl, "
            "han siger jeg skal ind i bilen nu",
        )
    )
    assert "utter_glad_you_are_ok" not in responses(messages)
    assert slot(events, "danger_kind") == "drunk_driving"
    assert service.handoffs[-1]["risk"] == "critical"


# -- the NLU summary for the trainer's inbox (handoff_service/trainer_inbox.py) ---------------


def test_every_planned_turn_carries_the_nlu_summary_on_its_last_message(monkeypatch):
    FakeService(OPEN).install(monkeypatch)
    unsure = tracker("nlu_fallback", "asdfgh jeg ved ik")
    unsure.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35},
        {"name": "feeling_sad", "confidence": 0.21},
        {"name": "conflict_home", "confidence": 0.19},
    ]
    messages, _events = respond(unsure)
    summary = messages[-1]["custom"]["nlu"]
    assert summary["intent"] == "nlu_fallback"
    assert summary["fallback"] is True
    assert summary["ranking"][1] == {"intent": "feeling_sad", "confidence": 0.21}
    # Names and numbers only: the young person's words never travel with it.
    assert "asdfgh" not in repr(summary)
    assert [m for m in messages if m.get("custom")] == [messages[-1]]


def test_the_summary_says_when_the_safety_net_lifted_the_intent(monkeypatch):
    FakeService(OPEN).install(monkeypatch)
    lifted = tracker("suicidal", "jeg orker ikke at være her mere")
    lifted.latest_message["risk_safety_net"] = {
        "rule_id": "suicidal_not_be_here",
        "matched": "orker ikke at være her",
        "intent": "suicidal",
        "original_intent": "feeling_sad",
        "original_confidence": 0.62,
    }
    messages, _events = respond(lifted)
    summary = messages[-1]["custom"]["nlu"]
    assert summary["fallback"] is False
    assert summary["safety_net"] == {
        "intent": "suicidal",
        "original_intent": "feeling_sad",
        "original_confidence": 0.62,
        "rule_id": "suicidal_not_be_here",
    }
    assert "orker" not in repr(summary)
