"""The bot's custom actions: the shift-aware greeting and one action for every other turn.

``action_respond`` reads the turn (intent, the risk lexicon's danger kind, the context cue) and
the conversation's slots, asks :func:`bot.actions.dialogue.plan_turn` what to do, and carries the
plan out. Every word sent comes from the domain's responses or the approved content library; the
actions only choose. A turn is at most three bubbles, the emergency number first. Calls to the
handoff service are best effort for words (the young person is always answered), but emergency
guidance is sent before anything that could fail.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import handoff_client
from bot.actions.dialogue import TOPIC_INTENTS, Plan, TurnInput, plan_turn
from bot.actions.triage import consecutive_fallbacks, triage_payload
from bot.context_cues import ContextCues, load_cues
from triage_core.content_library import DANISH_TIME, ContentItem, ContentLibrary, load_library
from triage_core.lexicon import RiskLexicon, danger_kind_of, default_lexicon_path
from triage_core.risk import highest_risk, risk_rank

logger = logging.getLogger(__name__)
MAX_BUBBLES_PER_TURN = 3
# From 90 minutes the wait is said in whole hours ("cirka 2 timer"), as the status bar does.
HOURS_FROM_MINUTES = 90
# The offer of a counsellor comes back after this many of the young person's turns.
OFFER_EVERY = 3
# Beyond a day, "næste vagt starter mandag kl. 17" says more than a number of hours.
HOURS_UNTIL_MINUTES = 24 * 60
CARERS = frozenset(
    {
        "mor",
        "far",
        "stedfar",
        "stedmor",
        "bedstemor",
        "bedstefar",
        "mors kæreste",
        "fars kæreste",
        "plejeforælder",
        "forældre",
    }
)


@lru_cache(maxsize=4)
def _library(content_dir: str | None) -> ContentLibrary:
    return load_library(Path(content_dir) if content_dir else None)


def library() -> ContentLibrary:
    return _library(os.environ.get("BOT_CONTENT_DIR"))


@lru_cache(maxsize=1)
def lexicon() -> RiskLexicon:
    return RiskLexicon.from_yaml(default_lexicon_path())


def cues() -> ContextCues:
    return load_cues()


def now() -> datetime:
    """Danish time now; BOT_NOW (ISO 8601) fixes it for tests of opening hours."""
    fixed = os.environ.get("BOT_NOW")
    return datetime.fromisoformat(fixed) if fixed else datetime.now(DANISH_TIME)


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def given_ids(tracker: Tracker) -> list[str]:
    return list(tracker.get_slot("content_given") or [])


def named_carer(tracker: Tracker) -> str | None:
    """The carer the young person named most recently; "forældre" when they named both."""
    values = [v for v in (tracker.get_slot("carer") or []) if v in CARERS]
    if not values:
        return None
    if {"mor", "far"} <= set(values):
        return "forældre"
    return values[-1]


@dataclass
class Turn:
    """The bubbles of one turn; never more than three, so the danger number stays in view."""

    dispatcher: CollectingDispatcher
    carer: str | None
    given: list[str]
    bubbles: int = 0
    events: list[EventType] = field(default_factory=list)
    gave_number: bool = False  # an emergency number was in one of the bubbles sent

    @property
    def room(self) -> int:
        return MAX_BUBBLES_PER_TURN - self.bubbles

    def item(self, item: ContentItem | None, keep: int = 0) -> bool:
        """Send an approved item (as many bubbles as fit, leaving ``keep`` for what follows)."""
        if item is None:
            return False
        bubbles = library().render(item, now=now(), carer=self.carer)
        numbers = [n.number for n in library().emergency_numbers]
        for bubble in bubbles[: max(0, self.room - keep)]:
            self.dispatcher.utter_message(text=bubble)
            self.bubbles += 1
            self.gave_number = self.gave_number or any(n in bubble for n in numbers)
        if item.id not in self.given:
            self.given.append(item.id)
        return True

    def say(self, response: str, **values: Any) -> None:
        if self.room <= 0:
            logger.warning("turn full; response %s not sent", response)
            return
        self.dispatcher.utter_message(response=response, **values)
        self.bubbles += 1


def turns_since_offer(tracker: Tracker) -> int | None:
    """Young person's turns since the bot last offered a counsellor (None: never offered)."""
    turns = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            turns += 1
        elif event.get("event") == "bot":
            template = (event.get("metadata") or {}).get("utter_action")
            if template in ("utter_offer_counsellor", "utter_fallback_offer_counsellor"):
                return turns
    return None


def offer_now(tracker: Tracker) -> bool:
    """The offer of a counsellor, but not in every turn: a young person who said nothing to it
    has heard it; it comes back after OFFER_EVERY turns."""
    since = turns_since_offer(tracker)
    return since is None or since >= OFFER_EVERY


def service_status(tracker: Tracker | None = None) -> dict[str, Any] | None:
    try:
        return handoff_client.service_status(tracker.sender_id if tracker else None)
    except handoff_client.HandoffUnavailable:
        return None


def queue_state(tracker: Tracker) -> dict[str, Any] | None:
    try:
        return handoff_client.queue_state(tracker.sender_id)
    except handoff_client.HandoffUnavailable:
        return None


def hand_off(
    tracker: Tracker, given: list[str], reason: str, risk: str, danger: str | None
) -> dict[str, Any] | None:
    payload = triage_payload(tracker, given, reason, risk=risk, danger=danger)
    try:
        return handoff_client.hand_off(tracker.sender_id, payload)
    except handoff_client.HandoffUnavailable:
        return None


def report_triage(tracker: Tracker, given: list[str], reason: str, risk: str) -> None:
    try:
        handoff_client.update_triage(
            tracker.sender_id, triage_payload(tracker, given, reason, risk=risk)
        )
    except handoff_client.HandoffUnavailable:
        pass  # the next handoff carries the same summary; words to the young person come first


def say_queue_place(turn: Turn, queue_turn: dict[str, Any], crisis: bool = False) -> None:
    """One line about the place in the queue, in the words of the page's status bar."""
    queue = queue_turn.get("queue") or {}
    position = queue.get("position")
    if queue_turn.get("status") != "queued" or position is None:
        return
    eta = queue.get("eta_minutes")
    prefix = "utter_crisis_queue" if crisis else "utter_queue"
    if queue.get("shift_open") and eta is not None:
        if eta < HOURS_FROM_MINUTES:
            turn.say(f"{prefix}_open", queue_position=position, eta_minutes=max(1, eta))
        else:
            turn.say(f"{prefix}_open_hours", queue_position=position, eta_hours=round(eta / 60))
    elif queue.get("next_shift_text"):
        if eta is not None and HOURS_FROM_MINUTES <= eta < HOURS_UNTIL_MINUTES:
            turn.say(
                f"{prefix}_closed_hours",
                queue_position=position,
                next_shift_text=queue["next_shift_text"],
                eta_hours=round(eta / 60),
            )
        else:
            turn.say(
                f"{prefix}_closed",
                queue_position=position,
                next_shift_text=queue["next_shift_text"],
            )
    else:
        turn.say(f"{prefix}_unknown", queue_position=position)


def nlu_summary(tracker: Tracker, fallback: bool) -> dict[str, Any]:
    """What the classifier made of the turn, for the trainer's inbox: the service reads it from
    the turn's custom item and never shows it (handoff_service/rasa_client.py). Intent names,
    confidences and the lexicon rule's id only, never text."""
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    ranking = [
        {"intent": entry["name"], "confidence": round(float(entry.get("confidence") or 0.0), 4)}
        for entry in (latest.get("intent_ranking") or [])[:5]
        if isinstance(entry, dict) and entry.get("name")
    ]
    summary: dict[str, Any] = {
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "ranking": ranking,
        "fallback": fallback,
    }
    net = latest.get("risk_safety_net")
    if isinstance(net, dict):
        summary["safety_net"] = {
            key: net.get(key)
            for key in ("intent", "original_intent", "original_confidence", "rule_id")
        }
    return summary


def attach_nlu(dispatcher: CollectingDispatcher, summary: dict[str, Any]) -> None:
    """On the turn's last message, so the number of bubbles stays what the plan sent; Rasa's REST
    channel answers it as an item of its own (``{"custom": {"nlu": …}}``)."""
    if dispatcher.messages:
        last = dispatcher.messages[-1]
        last["custom"] = {**(last.get("custom") or {}), "nlu": summary}
    else:
        dispatcher.utter_message(json_message={"nlu": summary})


def read_turn(tracker: Tracker) -> TurnInput:
    text = (tracker.latest_message or {}).get("text") or ""
    matches = lexicon().match_all(text)
    message_risk = str(highest_risk(m.risk for m in matches))
    return TurnInput(
        intent=latest_intent(tracker),
        message_danger=danger_kind_of(matches),
        danger_hint=cues().danger_hint(text),
        escalating_hint=cues().escalating_hint(text),
        says_now=cues().says_now(text),
        says_past=cues().says_past(text),
        names_drink=cues().names_drink(text),
        names_carer=any(
            e.get("entity") == "carer" for e in (tracker.latest_message or {}).get("entities") or []
        ),
        message_risk=message_risk,
        cue=cues().match(text),
        risk=tracker.get_slot("risk") or "normal",
        danger_kind=tracker.get_slot("danger_kind"),
        topic=tracker.get_slot("active_topic"),
        queued=bool(tracker.get_slot("handed_off")),
        last_offer=tracker.get_slot("last_offer"),
        consecutive_fallbacks=consecutive_fallbacks(tracker),
        words=len(text.split()),
    )


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        already_talking = any(event.get("event") == "bot" for event in tracker.events)
        if already_talking:
            # "hej" mid-conversation is a turn like any other ("hva gør jeg så nu" can read as
            # a greeting): the planner answers it in context.
            return ActionRespond().run(dispatcher, tracker, domain)
        status = service_status(tracker)
        dispatcher.utter_message(response="utter_greet_welcome")
        if status and status.get("shift_open"):
            dispatcher.utter_message(response="utter_greet_open")
        else:
            if status and status.get("next_shift_text"):
                dispatcher.utter_message(
                    response="utter_greet_closed", next_shift_text=status["next_shift_text"]
                )
            else:
                dispatcher.utter_message(response="utter_greet_closed_unknown")
            dispatcher.utter_message(response="utter_greet_closed_offer")
        return []


class ActionRespond(Action):
    """Every turn but the greeting: plan it (bot/actions/dialogue.py), then carry the plan out."""

    def name(self) -> str:
        return "action_respond"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        reading = read_turn(tracker)
        plan = plan_turn(reading)
        turn = Turn(dispatcher, named_carer(tracker), given_ids(tracker))
        step = getattr(self, f"_{plan.action}")
        offer = step(turn, tracker, plan, reading)
        if plan.critical and not turn.gave_number and turn.room > 0:
            # In a conversation in crisis every turn names the number that fits the danger.
            turn.item(library().followup_item("reminder", danger=plan.danger or "general"))
        events: list[EventType] = [
            SlotSet("content_given", turn.given),
            SlotSet("risk", plan.risk),
            SlotSet("last_offer", offer),
        ]
        if plan.topic and plan.topic in TOPIC_INTENTS:
            events.append(SlotSet("active_topic", plan.topic))
        if plan.action == "crisis":
            events.append(SlotSet("danger_kind", plan.danger))
        attach_nlu(dispatcher, nlu_summary(tracker, fallback=plan.action == "fallback"))
        return [*events, *turn.events]

    # -- steps; each returns the offer it left open ("counsellor", "safety" or None) ---------

    def _crisis(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> None:
        danger = plan.danger or "general"
        repeat = reading.danger_kind == danger and reading.risk == "critical"
        # Guidance for this kind first (the second item of the kind when it is said again).
        turn.item(library().danger_item(danger, turn.given if repeat else ()), keep=1)
        newly = not reading.queued or reading.risk != "critical"
        queue_turn = hand_off(tracker, turn.given, "crisis", "critical", danger)
        if queue_turn is None:
            turn.say("utter_queue_failed")
        elif newly:
            say_queue_place(turn, queue_turn, crisis=True)
        turn.events.append(SlotSet("handed_off", queue_turn is not None or reading.queued))
        return None

    def _followup(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> str | None:
        item = library().followup_item(
            plan.followup or "not_understood",
            intent=plan.topic,
            danger=plan.danger,
            given_ids=turn.given,
        )
        if item is None and plan.followup in ("safe_now", "taking_back"):
            turn.say("utter_glad_you_are_ok")
            return None
        if item is None and plan.critical:
            item = library().followup_item("not_understood", danger=plan.danger or "general")
        if item is None and plan.topic:
            return self._topic(turn, tracker, plan, reading)
        if item is None:
            return self._fallback(turn, tracker, plan, reading)
        if plan.followup == "afraid_of_carer":
            turn.item(item, keep=1)
            turn.say("utter_ask_safe")  # with buttons that answer it
            report_triage(tracker, turn.given, "afraid_of_carer", plan.risk)
            return "safety"
        offer_room = 0 if reading.queued or plan.critical or not offer_now(tracker) else 1
        turn.item(item, keep=offer_room)
        if plan.critical or reading.queued:
            if plan.critical and not reading.queued:
                queue_turn = hand_off(tracker, turn.given, "crisis", "critical", plan.danger)
                if queue_turn:
                    say_queue_place(turn, queue_turn, crisis=True)
                    turn.events.append(SlotSet("handed_off", True))
            return None
        if offer_room:
            turn.say("utter_offer_counsellor")
        report_triage(tracker, turn.given, "followup", plan.risk)
        return "counsellor"

    def _high_risk(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> str:
        """Violence or threats: validate, queue (risk high), and ask whether they are safe now."""
        lib = library()
        newly = not reading.queued or risk_rank(reading.risk) < risk_rank("high")
        if newly:
            turn.item(lib.next_item("violence", "validation", turn.given) or None, keep=2)
        else:
            turn.item(lib.next_item("violence", "psychoeducation", turn.given), keep=1)
        queue_turn = hand_off(tracker, turn.given, "violence", plan.risk, reading.danger_kind)
        if queue_turn is None:
            turn.say("utter_queue_failed")
        else:
            turn.events.append(SlotSet("handed_off", True))
            if newly:
                say_queue_place(turn, queue_turn)
        turn.say("utter_ask_safe")
        return "safety"

    def _topic(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> str | None:
        intent = plan.topic or "feeling_sad"
        lib = library()
        validation = lib.next_item(intent, "validation", turn.given)
        education = lib.next_item(intent, "psychoeducation", turn.given)
        offer = 0 if reading.queued or not offer_now(tracker) else 1
        if plan.critical:
            offer = 1  # room for the number that fits the danger (added after the step)
        room_for_education = len(education.bubbles) if education else 0
        if validation and 1 + room_for_education + offer <= MAX_BUBBLES_PER_TURN:
            turn.item(validation)
        if education is not None:
            turn.item(education, keep=offer)
        else:
            turn.say("utter_more_not_available")
        report_triage(tracker, turn.given, "topic", plan.risk)
        if reading.queued or plan.critical:
            return None
        if offer_now(tracker):
            turn.say("utter_offer_counsellor")
        return "counsellor"

    def _handoff(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> None:
        if reading.queued:
            state = queue_state(tracker)
            if state and state.get("status") == "queued" and state.get("queue"):
                turn.say("utter_already_queued", queue_position=state["queue"]["position"])
                return None
        queue_turn = hand_off(tracker, turn.given, "request_human", plan.risk, reading.danger_kind)
        if queue_turn is None:
            turn.say("utter_queue_failed")
            return None
        turn.events.append(SlotSet("handed_off", True))
        say_queue_place(turn, queue_turn)
        turn.say("utter_come_back")
        turn.say("utter_ask_topic_while_waiting")
        return None

    def _answer_offer(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput):
        if reading.last_offer == "counsellor" and reading.intent == "affirm":
            return self._handoff(turn, tracker, plan, reading)
        if reading.last_offer == "counsellor":
            turn.say("utter_ok_no_counsellor")
        else:
            turn.say("utter_ask_more")
        return None

    def _wait_time(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput):
        state = queue_state(tracker)
        if state and state.get("status") == "queued" and state.get("queue"):
            say_queue_place(turn, state, crisis=plan.critical)
            return None
        status = service_status(tracker)
        if status is None:
            turn.say("utter_opening_hours_unknown")
        elif status.get("shift_open"):
            turn.say(
                "utter_wait_time_not_queued_open",
                waiting_count=status.get("waiting_count", 0),
                eta_minutes=status.get("eta_minutes") or 0,
            )
        else:
            turn.say(
                "utter_wait_time_not_queued_closed",
                next_shift_text=status.get("next_shift_text") or "senere",
            )
        return "counsellor"

    def _opening_hours(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput):
        if reading.queued:
            # Someone waiting who asks when we are open wants to know when they get an answer.
            state = queue_state(tracker)
            if state and state.get("status") == "queued" and state.get("queue"):
                say_queue_place(turn, state, crisis=plan.critical)
                return None
        status = service_status(tracker)
        if status is None:
            turn.say("utter_opening_hours_unknown")
        elif status.get("shift_open"):
            turn.say(
                "utter_opening_hours_open",
                shift_end_text=status.get("current_shift_end_text") or "",
            )
        elif status.get("next_shift_text"):
            turn.say("utter_opening_hours_closed", next_shift_text=status["next_shift_text"])
        else:
            turn.say("utter_opening_hours_unknown")
        if reading.queued:
            return None
        return "counsellor"

    def _anonymity(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> None:
        if plan.critical:
            # Short, and room for the number: "will you tell the kommune?" in a crisis.
            turn.item(library().followup_item("will_you_report", danger="general"), keep=1)
            return None
        item = library().next_item("ask_anonymity", "info", turn.given)
        if item is None:
            items = library().items_for("ask_anonymity", "info")
            item = items[0] if items else None
        turn.item(item)
        return None

    def _utter(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput) -> None:
        turn.say(plan.response or "utter_ask_more")
        return None

    def _fallback(self, turn: Turn, tracker: Tracker, plan: Plan, reading: TurnInput):
        if reading.consecutive_fallbacks >= 2 and not reading.queued:
            turn.say("utter_fallback_offer_counsellor")
            return "counsellor"
        turn.say("utter_fallback")
        return None
