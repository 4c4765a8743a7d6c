"""The bot's custom actions: shift-aware greeting, topic support, crisis response and handoff.

Every word sent comes from the domain's responses or the approved content library; the actions
only choose. Calls to the handoff service are best effort for words (the young person is always
answered) but the crisis response is sent before anything that could fail.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import handoff_client
from bot.actions.triage import (
    consecutive_fallbacks,
    risk_of_intent,
    triage_payload,
)
from bot.content_library import ContentLibrary, load_library

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _library(content_dir: str | None) -> ContentLibrary:
    return load_library(Path(content_dir) if content_dir else None)


def library() -> ContentLibrary:
    return _library(os.environ.get("BOT_CONTENT_DIR"))


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def given_ids(tracker: Tracker) -> list[str]:
    return list(tracker.get_slot("content_given") or [])


def send_item(dispatcher: CollectingDispatcher, item: Any) -> None:
    for bubble in library().render(item):
        dispatcher.utter_message(text=bubble)


def send_next_item(
    dispatcher: CollectingDispatcher, intent: str, kind: str, given: list[str]
) -> str | None:
    """Send the first approved item of this kind for the intent not yet given; its id or None."""
    item = library().next_item(intent, kind, given)
    if item is None:
        return None
    send_item(dispatcher, item)
    given.append(item.id)
    return item.id


def utter_queue_position(dispatcher: CollectingDispatcher, turn: dict[str, Any]) -> None:
    queue = turn.get("queue") or {}
    position = queue.get("position")
    if turn.get("status") != "queued" or position is None:
        return
    if queue.get("shift_open") and queue.get("eta_minutes") is not None:
        dispatcher.utter_message(
            response="utter_queued_open", queue_position=position, eta_minutes=queue["eta_minutes"]
        )
    elif queue.get("next_shift_text"):
        dispatcher.utter_message(
            response="utter_queued_closed", queue_position=position, next_shift_text=queue["next_shift_text"]
        )
    else:
        dispatcher.utter_message(response="utter_queued_unknown", queue_position=position)


def report_triage(tracker: Tracker, given: list[str], reason: str) -> None:
    try:
        handoff_client.update_triage(tracker.sender_id, triage_payload(tracker, given, reason))
    except handoff_client.HandoffUnavailable:
        pass  # the next handoff carries the same summary; words to the young person come first


def hand_off(tracker: Tracker, given: list[str], reason: str) -> dict[str, Any] | None:
    try:
        return handoff_client.hand_off(tracker.sender_id, triage_payload(tracker, given, reason))
    except handoff_client.HandoffUnavailable:
        return None


def service_status() -> dict[str, Any] | None:
    try:
        return handoff_client.service_status()
    except handoff_client.HandoffUnavailable:
        return None


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        already_talking = any(event.get("event") == "bot" for event in tracker.events)
        if already_talking:
            dispatcher.utter_message(response="utter_greet_again")
            return []
        status = service_status()
        dispatcher.utter_message(response="utter_greet_welcome")
        if status and status.get("shift_open"):
            dispatcher.utter_message(response="utter_greet_open")
        else:
            if status and status.get("next_shift_text"):
                dispatcher.utter_message(response="utter_greet_closed", next_shift_text=status["next_shift_text"])
            else:
                dispatcher.utter_message(response="utter_greet_closed_unknown")
            dispatcher.utter_message(response="utter_greet_closed_offer")
        given = given_ids(tracker)
        send_next_item(dispatcher, "greet", "info", given)
        return [SlotSet("content_given", given)]


class ActionTopicSupport(Action):
    """Validate the feeling, give one approved item not given before, offer a counsellor."""

    def name(self) -> str:
        return "action_topic_support"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        intent = latest_intent(tracker) or "out_of_scope"
        given = given_ids(tracker)
        send_next_item(dispatcher, intent, "validation", given)
        if send_next_item(dispatcher, intent, "psychoeducation", given) is None:
            dispatcher.utter_message(response="utter_more_not_available")
        events: list[EventType] = [SlotSet("content_given", given)]
        if tracker.get_slot("handed_off"):
            dispatcher.utter_message(response="utter_ask_more")
            events.append(SlotSet("last_offer", None))
        else:
            dispatcher.utter_message(response="utter_offer_counsellor")
            events.append(SlotSet("last_offer", "counsellor"))
        report_triage(tracker, given, "topic")
        return events


class ActionViolence(Action):
    """High risk: validate, give the emergency-plan knowledge, and queue with risk high."""

    def name(self) -> str:
        return "action_violence"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        given = given_ids(tracker)
        send_next_item(dispatcher, "violence", "validation", given)
        send_next_item(dispatcher, "violence", "psychoeducation", given)
        turn = hand_off(tracker, given, "violence")
        if turn is None:
            dispatcher.utter_message(response="utter_queue_failed")
            return [SlotSet("content_given", given)]
        dispatcher.utter_message(response="utter_high_risk_queued")
        utter_queue_position(dispatcher, turn)
        return [SlotSet("content_given", given), SlotSet("handed_off", True), SlotSet("risk", "high")]


class ActionCrisis(Action):
    """Critical risk: the emergency response first, then first place in the queue."""

    def name(self) -> str:
        return "action_crisis"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        intent = latest_intent(tracker)
        if risk_of_intent(intent) != "critical":
            intent = "suicidal"  # reached through a rule only for critical intents; stay on the safe side
        given = given_ids(tracker)
        # A first response, then follow-ups if they keep writing about it; the numbers every time.
        if send_next_item(dispatcher, intent, "emergency", given) is None:
            items = library().items_for(intent, "emergency")
            if items:
                send_item(dispatcher, items[0])
        turn = hand_off(tracker, given, "crisis")
        events: list[EventType] = [SlotSet("content_given", given), SlotSet("risk", "critical")]
        if turn is None:
            dispatcher.utter_message(response="utter_queue_failed")
            return events
        queue = turn.get("queue") or {}
        if queue.get("shift_open"):
            dispatcher.utter_message(response="utter_crisis_queue_open")
        else:
            dispatcher.utter_message(
                response="utter_crisis_queue_closed",
                next_shift_text=queue.get("next_shift_text") or "så snart der er en rådgiver",
            )
        return [*events, SlotSet("handed_off", True)]


def queue_for_counsellor(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    given = given_ids(tracker)
    if tracker.get_slot("handed_off"):
        try:
            turn = handoff_client.queue_state(tracker.sender_id)
        except handoff_client.HandoffUnavailable:
            turn = None
        if turn and turn.get("status") == "queued" and turn.get("queue"):
            dispatcher.utter_message(response="utter_already_queued", queue_position=turn["queue"]["position"])
            return [SlotSet("last_offer", None)]
    turn = hand_off(tracker, given, "request_human")
    if turn is None:
        dispatcher.utter_message(response="utter_queue_failed")
        return [SlotSet("last_offer", None)]
    utter_queue_position(dispatcher, turn)
    send_next_item(dispatcher, "request_human", "info", given)
    dispatcher.utter_message(response="utter_ask_topic_while_waiting")
    return [SlotSet("content_given", given), SlotSet("handed_off", True), SlotSet("last_offer", None)]


class ActionHandoff(Action):
    """The young person's wish comes first: queue at once, then ask what it is about."""

    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        return queue_for_counsellor(dispatcher, tracker)


class ActionAnswerOffer(Action):
    def name(self) -> str:
        return "action_answer_offer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        offer = tracker.get_slot("last_offer")
        if offer == "counsellor" and latest_intent(tracker) == "affirm":
            return queue_for_counsellor(dispatcher, tracker)
        if offer == "counsellor":
            dispatcher.utter_message(response="utter_ok_no_counsellor")
        else:
            dispatcher.utter_message(response="utter_ask_more")
        return [SlotSet("last_offer", None)]


class ActionWaitTime(Action):
    def name(self) -> str:
        return "action_wait_time"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        try:
            turn = handoff_client.queue_state(tracker.sender_id)
        except handoff_client.HandoffUnavailable:
            turn = None
        queue = (turn or {}).get("queue")
        if turn and turn.get("status") == "queued" and queue:
            if queue.get("shift_open") and queue.get("eta_minutes") is not None:
                dispatcher.utter_message(
                    response="utter_wait_time_queued_open",
                    queue_position=queue["position"],
                    eta_minutes=queue["eta_minutes"],
                )
            else:
                dispatcher.utter_message(
                    response="utter_wait_time_queued_closed",
                    queue_position=queue["position"],
                    next_shift_text=queue.get("next_shift_text") or "senere",
                )
            return []
        status = service_status()
        if status is None:
            dispatcher.utter_message(response="utter_opening_hours_unknown")
        elif status.get("shift_open"):
            dispatcher.utter_message(
                response="utter_wait_time_not_queued_open",
                waiting_count=status.get("waiting_count", 0),
                eta_minutes=status.get("eta_minutes") or 0,
            )
        else:
            dispatcher.utter_message(
                response="utter_wait_time_not_queued_closed",
                next_shift_text=status.get("next_shift_text") or "senere",
            )
        return [SlotSet("last_offer", "counsellor")]


class ActionOpeningHours(Action):
    def name(self) -> str:
        return "action_opening_hours"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        status = service_status()
        if status is None:
            dispatcher.utter_message(response="utter_opening_hours_unknown")
        elif status.get("shift_open"):
            dispatcher.utter_message(
                response="utter_opening_hours_open", shift_end_text=status.get("current_shift_end_text") or ""
            )
        elif status.get("next_shift_text"):
            dispatcher.utter_message(response="utter_opening_hours_closed", next_shift_text=status["next_shift_text"])
        else:
            dispatcher.utter_message(response="utter_opening_hours_unknown")
        return [SlotSet("last_offer", "counsellor")]


class ActionAnonymity(Action):
    def name(self) -> str:
        return "action_anonymity"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        given = given_ids(tracker)
        if send_next_item(dispatcher, "ask_anonymity", "info", given) is None:
            items = library().items_for("ask_anonymity", "info")
            if items:
                send_item(dispatcher, items[0])
        return [SlotSet("content_given", given)]


class ActionFallback(Action):
    """Not understood: ask again; after two misunderstandings in a row, offer a human."""

    def name(self) -> str:
        return "action_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(response="utter_fallback_offer_counsellor")
            return [SlotSet("last_offer", "counsellor")]
        dispatcher.utter_message(response="utter_fallback")
        return []
