"""The intent taxonomy: every intent name the NLU may predict, and what kind of intent it is.

bot/domain.yml lists the same names for Rasa; tests/bot/test_taxonomy.py checks that the domain,
this module, the content library and the risk lexicon agree. The risk of each intent lives in
:mod:`triage_core.risk`.
"""

from __future__ import annotations

#: Turn-taking, not a topic: the conversation's topic never becomes one of these.
CONVERSATION_CONTROL: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
)
#: Questions about the service itself.
SERVICE_QUESTIONS: tuple[str, ...] = (
    "request_human",
    "ask_opening_hours",
    "ask_wait_time",
    "ask_anonymity",
)
#: What the young person's life is about: answered with validation and psychoeducation.
TOPIC_INTENTS: tuple[str, ...] = (
    "parent_alcohol",
    "parent_drugs",
    "own_substance_use",
    "feeling_guilt",
    "feeling_sad",
    "feeling_anxious",
    "conflict_home",
    "violence",
)
#: Danger: answered with the emergency guidance of its kind (risk "critical").
CRISIS_INTENTS: tuple[str, ...] = ("self_harm", "suicidal", "immediate_danger")
OUT_OF_SCOPE = "out_of_scope"
#: Rasa's intent below the fallback threshold; not part of the domain.
FALLBACK_INTENT = "nlu_fallback"

#: Every intent of the domain, in the order of the taxonomy table in docs/architecture.md.
INTENTS: tuple[str, ...] = (
    *CONVERSATION_CONTROL,
    *SERVICE_QUESTIONS,
    *TOPIC_INTENTS,
    *CRISIS_INTENTS,
    OUT_OF_SCOPE,
)

#: Kinds of danger, most urgent first; each has its own approved guidance in
#: triage_core/content/crisis.yml. What is right after violence (get away, lock a door) is wrong
#: after an overdose (never be alone), so the kind is chosen from the message and "general"
#: (safe for every kind) is the fallback.
DANGER_KINDS: tuple[str, ...] = (
    "unconscious",
    "overdose",
    "bleeding",
    "weapon",
    "violence_now",
    "drunk_driving",
    "followed",
    "locked_out",
    "suicidal",
    "self_harm",
    "general",
)
#: The danger kind a crisis intent stands for when the message names no more precise one.
DANGER_OF_INTENT: dict[str, str] = {
    "suicidal": "suicidal",
    "self_harm": "self_harm",
    "immediate_danger": "general",
}
