"""What the bot has learned in a conversation, read from the tracker (pure functions)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from triage_core.risk import RiskLevel, highest_intent_risk, raised_risk, risk_of_intent, risk_rank
from triage_core.taxonomy import (
    CONVERSATION_CONTROL,
    CRISIS_INTENTS,
    FALLBACK_INTENT,
    TOPIC_INTENTS,
)

# What a conversation can be about: the home and feeling topics and the crises.
CONVERSATION_TOPICS = (*TOPIC_INTENTS, *CRISIS_INTENTS)
NOT_A_TOPIC = (*CONVERSATION_CONTROL, FALLBACK_INTENT)


def intents_seen(tracker: Tracker) -> list[str]:
    seen: list[str] = []
    for event in tracker.events:
        if event.get("event") == "user":
            name = (event.get("parse_data") or {}).get("intent", {}).get("name")
            if name and name not in NOT_A_TOPIC and name not in seen:
                seen.append(name)
    return seen


def main_topic(intents: list[str]) -> str | None:
    """The riskiest topic, else the most recent topic intent."""
    topics = [i for i in intents if i in CONVERSATION_TOPICS]
    if not topics:
        return intents[-1] if intents else None
    top_rank = max(risk_rank(risk_of_intent(i)) for i in topics)
    riskiest = [i for i in topics if risk_rank(risk_of_intent(i)) == top_rank]
    return riskiest[0] if top_rank > 0 else topics[-1]


def entities_seen(tracker: Tracker) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities", []):
            name, value = entity.get("entity"), entity.get("value")
            if name in ("carer", "substance") and isinstance(value, str):
                values = found.setdefault(name, [])
                if value not in values:
                    values.append(value)
    return found


def consecutive_fallbacks(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if (event.get("parse_data") or {}).get("intent", {}).get("name") == FALLBACK_INTENT:
                count += 1
            else:
                break
    return count


def triage_payload(
    tracker: Tracker,
    content_given: list[str],
    reason: str,
    risk: str = "normal",
    danger: str | None = None,
) -> dict[str, Any]:
    """What the counsellor sees. ``risk`` is the dialogue's verdict (it can know more than the
    intents, e.g. "nej, jeg er ikke i sikkerhed"); the service keeps the highest risk ever seen."""
    intents = intents_seen(tracker)
    entities = entities_seen(tracker)
    if danger:
        entities["danger"] = [danger]
    observed = raised_risk(highest_intent_risk(intents), risk)
    topic = main_topic(intents)
    if danger and observed is RiskLevel.CRITICAL and risk_of_intent(topic) != "critical":
        topic = "immediate_danger"
    return {
        "risk": str(observed),
        "topic": topic,
        "intents": intents,
        "entities": entities,
        "content_given": content_given,
        "reason": reason,
    }
