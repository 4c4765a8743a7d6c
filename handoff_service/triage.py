"""What the bot learned, folded into the conversation: topic, intents, entities, risk."""

from __future__ import annotations

from typing import Any

from handoff_service.models import Conversation
from handoff_service.schemas import Triage
from triage_core.risk import RISK_RANK, highest_intent_risk, raised_risk, risk_of_intent, risk_rank
from triage_core.taxonomy import FALLBACK_INTENT, OUT_OF_SCOPE

# Topics that say nothing about the young person's life: any real topic replaces them.
GENERIC_TOPICS = frozenset(
    {None, "request_human", OUT_OF_SCOPE, "unknown", "greet", FALLBACK_INTENT}
)


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    return first + [item for item in second if item not in first]


def merge_triage(conversation: Conversation, triage: Triage) -> None:
    """Fold what the bot learned into the conversation; risk is the highest ever seen."""
    old: dict[str, Any] = dict(conversation.triage or {})
    observed = raised_risk(triage.risk, highest_intent_risk(triage.intents))
    new_risk = raised_risk(conversation.risk, observed)
    entities = dict(old.get("entities", {}))
    for name, values in triage.entities.items():
        entities[name] = _union(list(entities.get(name, [])), [str(v)[:64] for v in values][:20])
    merged = {
        "intents": _union(list(old.get("intents", [])), triage.intents),
        "entities": entities,
        "content_given": _union(list(old.get("content_given", [])), triage.content_given),
        "reasons": _union(list(old.get("reasons", [])), [triage.reason] if triage.reason else []),
    }
    topic_is_riskier = risk_rank(risk_of_intent(triage.topic)) > risk_rank(
        risk_of_intent(conversation.topic)
    )
    if triage.topic not in GENERIC_TOPICS and (
        conversation.topic in GENERIC_TOPICS
        or topic_is_riskier
        or risk_of_intent(conversation.topic) == "normal"
    ):
        conversation.topic = triage.topic
    elif conversation.topic is None and triage.topic:
        conversation.topic = triage.topic
    conversation.triage = merged
    conversation.risk = str(new_risk)
    conversation.risk_rank = RISK_RANK[new_risk]
