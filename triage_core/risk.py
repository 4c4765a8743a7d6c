"""Risk: the levels, the risk of each intent, and the rule that risk never goes down.

The one home of these rules. The bot's actions, the risk lexicon, the content check, the NLU
report and the handoff service's queue all import them from here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import Enum

from triage_core.taxonomy import CRISIS_INTENTS

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # the bot's environment (Python 3.10)

    class StrEnum(str, Enum):
        """A str whose members print as their value, as enum.StrEnum does from Python 3.11."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class RiskLevel(StrEnum):
    """A conversation's risk; members compare equal to their plain string."""

    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


#: Risk levels from lowest to highest.
RISK_ORDER: tuple[RiskLevel, ...] = (RiskLevel.NORMAL, RiskLevel.HIGH, RiskLevel.CRITICAL)
#: Rank of each level (the database keeps it in conversations.risk_rank for the queue order).
RISK_RANK: dict[str, int] = {level.value: rank for rank, level in enumerate(RISK_ORDER)}
RISK_BY_RANK: dict[int, RiskLevel] = dict(enumerate(RISK_ORDER))

#: Risk of every risky intent; every other intent (and ``nlu_fallback``) is "normal".
INTENT_RISK: dict[str, RiskLevel] = {
    "violence": RiskLevel.HIGH,
    **{intent: RiskLevel.CRITICAL for intent in CRISIS_INTENTS},
}
CRITICAL_INTENTS: frozenset[str] = frozenset(
    intent for intent, risk in INTENT_RISK.items() if risk is RiskLevel.CRITICAL
)
HIGH_INTENTS: frozenset[str] = frozenset(
    intent for intent, risk in INTENT_RISK.items() if risk is RiskLevel.HIGH
)
#: When several risky intents are seen at once, the most urgent one names the danger.
INTENT_PRIORITY: tuple[str, ...] = ("immediate_danger", "suicidal", "self_harm", "violence")


def risk_of_intent(intent: str | None) -> RiskLevel:
    """Risk level of an intent name; unknown names and None are "normal"."""
    return INTENT_RISK.get(intent or "", RiskLevel.NORMAL)


def risk_rank(risk: str | None) -> int:
    """Numeric rank of a risk level; unknown levels count as normal."""
    return RISK_RANK.get(risk or "", 0)


def raised_risk(current: str | None, observed: str) -> RiskLevel:
    """The higher of two risks: a conversation's risk is the highest seen and never goes down."""
    if observed not in RISK_RANK:
        raise ValueError(f"unknown risk level: {observed!r}")
    if risk_rank(observed) > risk_rank(current):
        return RiskLevel(observed)
    return RiskLevel(current) if current in RISK_RANK else RiskLevel.NORMAL


def highest_risk(risks: Iterable[str]) -> RiskLevel:
    """The highest of several risk levels ("normal" for none)."""
    highest = RiskLevel.NORMAL
    for risk in risks:
        highest = raised_risk(highest, risk)
    return highest


def highest_intent_risk(intents: Iterable[str]) -> RiskLevel:
    """The highest risk of the intents seen ("normal" for none)."""
    return highest_risk(risk_of_intent(intent) for intent in intents)
