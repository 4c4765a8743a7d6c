"""What the bot does in a young person's turn: one plain function from what was said and what the
conversation already knows to a plan (pure Python, no Rasa, no I/O; the actions carry it out).

The order of the checks is the safety policy:
1. an answer to the bot's own question (the safety question, the offer of a counsellor);
2. "nej, jeg er ikke i sikkerhed" escalates;
3. a new danger in this message (the risk lexicon names its kind) gets that kind's guidance;
4. "jeg er i sikkerhed nu" and "det var for sjov" are answers, not emergencies: heard gently,
   risk kept (it never goes down);
5. a follow-up question is answered in the conversation's context (danger kind, then topic);
6. the classifier's intent; in a conversation in crisis, a message the bot cannot place gets a
   short answer with the number that fits the danger kind, never a bare "I didn't understand".
"""

from __future__ import annotations

from dataclasses import dataclass

from triage_core.risk import raised_risk, risk_rank
from triage_core.risk import risk_of_intent as intent_risk
from triage_core.taxonomy import DANGER_KINDS, DANGER_OF_INTENT
from triage_core.taxonomy import TOPIC_INTENTS as TAXONOMY_TOPIC_INTENTS

TOPIC_INTENTS = frozenset(TAXONOMY_TOPIC_INTENTS)
# The danger a crisis intent names by itself (immediate_danger's kind comes from the message).
CRITICAL_INTENT_DANGER = {i: kind for i, kind in DANGER_OF_INTENT.items() if kind != "general"}
SIMPLE_RESPONSES = {
    "bot_challenge": "utter_bot_challenge",
    "thank": "utter_thank",
    "goodbye": "utter_goodbye",
}
SERVICE_PLANS = {
    "request_human": "handoff",
    "ask_wait_time": "wait_time",
    "ask_opening_hours": "opening_hours",
    "ask_anonymity": "anonymity",
}
# Hints that refine a suicidal or self-harm message: pills taken, a wound bleeding, a weapon or an
# unconscious person need their own guidance. Others (a fight, a car) do not replace the suicide
# or self-harm guidance.
REFINING_HINTS = frozenset({"overdose", "bleeding", "weapon", "unconscious"})
# A home topic told in the present with one of these hints is danger now, even when neither the
# lexicon nor the classifier said so: the second net of the dialogue (escalate when in doubt).
# Overdose is not among them: "har taget noget igen i aften" about a parent is a topic, and a
# real overdose is the lexicon's to catch.
ESCALATING_HINTS = frozenset(
    {"violence_now", "weapon", "drunk_driving", "unconscious", "locked_out", "followed"}
)
# A car is a danger only with drink or drugs in the message (the classifier's reading of it).
DRINK_OR_DRUG_INTENTS = frozenset({"parent_alcohol", "parent_drugs", "immediate_danger"})
# Dangers that are now unless told as past: thrown out with nowhere to sleep.
UNTIMED_DANGERS = frozenset({"locked_out"})
HOME_TOPICS = frozenset(
    {
        "violence",
        "parent_alcohol",
        "parent_drugs",
        "conflict_home",
        "feeling_anxious",
        "own_substance_use",
    }
)
# A follow-up this short is about the conversation's topic, not a new one.
SHORT_FOLLOWUP_WORDS = 6
# Follow-ups that, outside any context, are better answered by the intent the classifier chose.
NEEDS_CONTEXT = frozenset(
    {
        "what_to_do",
        "is_dangerous",
        "how_to_stop",
        "happened_before",
        "cannot_help",
        "afraid_to_call",
        "location",
        "will_you_report",
    }
)


@dataclass(frozen=True)
class TurnInput:
    """One turn as the actions see it: this message, then what the conversation knows."""

    intent: str | None  # after the fallback classifier and the safety net
    message_danger: str | None = None  # the lexicon's danger kind in this message
    message_risk: str = "normal"  # the lexicon's risk in this message
    cue: str | None = None  # bot/context_cues.yml
    risk: str = "normal"  # the conversation's risk so far
    danger_kind: str | None = None  # the conversation's danger kind so far
    topic: str | None = None  # the conversation's active topic
    queued: bool = False
    last_offer: str | None = None  # "counsellor" | "safety" | None
    consecutive_fallbacks: int = 0
    words: int = 0  # length of the message, in words
    danger_hint: str | None = None  # bot/context_cues.yml danger_hints: a kind, never a risk
    escalating_hint: str | None = None  # a hint strong enough for the second net below
    says_now: bool = False  # the message places what it tells in the present
    names_carer: bool = False  # the message names a parent or carer (entity)
    says_past: bool = False  # the message tells something as past or habit
    names_drink: bool = False  # the message names drink or drugs


@dataclass(frozen=True)
class Plan:
    """What to do: ``action`` names the step; the other fields are its context."""

    action: str
    danger: str | None = None
    followup: str | None = None
    topic: str | None = None
    response: str | None = None
    risk: str = "normal"  # the conversation's risk after this turn (never lower than before)

    @property
    def critical(self) -> bool:
        return self.risk == "critical"


def _raised(current: str, observed: str) -> str:
    return str(raised_risk(current, observed))


def plan_turn(turn: TurnInput) -> Plan:
    intent = turn.intent or "nlu_fallback"
    risk = _raised(turn.risk, turn.message_risk)
    in_crisis = risk == "critical" or turn.danger_kind is not None
    topic = intent if intent in TOPIC_INTENTS else turn.topic
    if turn.cue in NEEDS_CONTEXT and turn.topic and turn.words <= SHORT_FOLLOWUP_WORDS:
        # "er det farligt?" right after own hash use is about the hash, whatever the classifier
        # makes of five words; a longer message that names another topic moves the conversation.
        topic = turn.topic

    def plan(action: str, **fields) -> Plan:
        fields.setdefault("topic", topic)
        fields.setdefault("risk", risk)
        fields.setdefault("danger", turn.danger_kind if in_crisis else None)
        return Plan(action, **fields)

    def crisis(danger: str) -> Plan:
        return plan("crisis", danger=danger, risk="critical")

    def kind_of(base: str | None) -> str:
        """The danger kind for a message judged critical: the lexicon's own kind first, then
        the hint (only the refining ones over suicide and self-harm), then what is known."""
        hint = turn.danger_hint
        if (
            turn.escalating_hint == "drunk_driving"
            and turn.says_now
            and base in ("overdose", "general", None)
        ):
            return "drunk_driving"  # high and about to drive off with a child: the car first
        if base and base not in ("suicidal", "self_harm", "general"):
            if hint in REFINING_HINTS and DANGER_KINDS.index(hint) < DANGER_KINDS.index(base):
                return hint  # pills taken and now he doesn't wake: the more urgent kind
            return base
        if hint and (base not in ("suicidal", "self_harm") or hint in REFINING_HINTS):
            return hint
        return base or turn.danger_kind or "general"

    # 1. The answer to the bot's own question.
    if turn.last_offer == "safety" and turn.message_danger is None:
        if intent == "affirm" or turn.cue == "safe_now":
            return plan("followup", followup="safe_now", danger=turn.danger_kind or "general")
        if intent == "deny" or turn.cue == "not_safe":
            return crisis(turn.danger_kind or "general")
    if turn.last_offer == "counsellor" and intent in ("affirm", "deny") and turn.cue is None:
        return plan("answer_offer")

    # 2. Not safe: when in doubt about risk, escalate.
    if turn.cue == "not_safe" and turn.message_danger is None:
        return crisis(turn.danger_kind or "general")

    # 3. A new danger in this message, whatever else it says.
    # A reassurance does not outweigh strong danger words told in the present ("han er kommet for
    # at hente mig … og siger jeg skal ind i bilen nu"): when in doubt, escalate.
    reassured = turn.cue in ("safe_now", "taking_back") and not (
        turn.escalating_hint and turn.says_now and not turn.says_past
    )
    if turn.message_danger is not None and not reassured:
        kind = kind_of(turn.message_danger)
        if turn.danger_kind == kind and turn.cue in NEEDS_CONTEXT:
            return plan("followup", followup=turn.cue, danger=kind, risk="critical")
        return crisis(kind)

    if (
        turn.escalating_hint in ESCALATING_HINTS
        and not turn.says_past  # "hver gang han kommer hjem" is a habit, not now
        and (turn.says_now or turn.escalating_hint in UNTIMED_DANGERS)
        and (
            turn.escalating_hint != "drunk_driving"
            or intent in DRINK_OR_DRUG_INTENTS
            or turn.names_drink
        )
        and not reassured
        and (
            intent in HOME_TOPICS
            or intent_risk(intent) != "normal"
            or (turn.names_carer and intent in ("nlu_fallback", "out_of_scope"))
        )
    ):
        return crisis(turn.escalating_hint or "general")

    if (
        in_crisis
        and risk == "critical"
        and turn.danger_hint
        and turn.cue is None
        and not reassured
        and (intent in HOME_TOPICS or intent in TOPIC_INTENTS)
    ):
        # In a conversation in crisis, a message with danger words is about the danger ("nu har
        # jeg taget 3 mere og mit hjerte banker"), whatever topic the classifier reads in it.
        return crisis(kind_of(turn.danger_hint))

    # 4. Heard as answers, not as new emergencies.
    if reassured and turn.message_risk == "normal" and (in_crisis or risk == "high"):
        return plan("followup", followup=turn.cue, danger=turn.danger_kind or "general")
    # A reassurance beside a danger phrase the lexicon still finds (its reassurance veto did not
    # cover it) is not heard as safe: "far kommer og henter mig, og han er stiv" is danger.
    if reassured and turn.message_risk == "normal" and risk_rank(intent_risk(intent)) > 0:
        # A reassuring message the classifier read as danger, in a calm conversation: no alarm.
        return plan("utter", response="utter_glad_you_are_ok")

    # 5. Follow-ups in context.
    if turn.cue == "afraid_of_carer" and turn.message_risk == "normal" and not in_crisis:
        return plan("followup", followup="afraid_of_carer", topic=topic or "feeling_anxious")
    if turn.cue in NEEDS_CONTEXT and (in_crisis or topic):
        return plan(
            "followup",
            followup=turn.cue,
            danger=turn.danger_kind if in_crisis else None,
        )

    # 6. The classifier's intent.
    if intent_risk(intent) == "critical":
        known = turn.danger_kind if intent == "immediate_danger" else None
        return crisis(kind_of(CRITICAL_INTENT_DANGER.get(intent) or known))
    if intent == "violence" and risk == "critical":
        # Violence told in a conversation already in crisis: its guidance again if the words
        # say which danger, else the number that fits and that a counsellor is coming.
        if turn.danger_hint:
            return crisis(kind_of(turn.danger_hint))
        return plan("followup", followup="not_understood", danger=turn.danger_kind or "general")
    if intent == "violence":
        return plan("high_risk", risk=_raised(risk, "high"))
    if intent in TOPIC_INTENTS:
        return plan("topic")
    if intent in SERVICE_PLANS:
        return plan(SERVICE_PLANS[intent])
    if intent == "greet":
        return plan("utter", response="utter_greet_again")
    if intent in ("affirm", "deny"):
        return plan("answer_offer")
    if in_crisis and intent in ("nlu_fallback", "out_of_scope", "thank", "goodbye"):
        if intent in ("thank", "goodbye"):
            return plan("utter", response=SIMPLE_RESPONSES[intent])
        return plan("followup", followup="not_understood", danger=turn.danger_kind or "general")
    if intent in SIMPLE_RESPONSES:
        return plan("utter", response=SIMPLE_RESPONSES[intent])
    if intent == "out_of_scope":
        return plan("utter", response="utter_out_of_scope")
    return plan("fallback")
