"""Risk levels of the intent taxonomy and the rule that risk never goes down."""

from __future__ import annotations

RISK_RANK: dict[str, int] = {"normal": 0, "high": 1, "critical": 2}
RISK_BY_RANK: dict[int, str] = {rank: risk for risk, rank in RISK_RANK.items()}

CRITICAL_INTENTS = frozenset({"self_harm", "suicidal", "immediate_danger"})
HIGH_INTENTS = frozenset({"violence"})


def risk_of_intent(intent: str | None) -> str:
    if intent in CRITICAL_INTENTS:
        return "critical"
    if intent in HIGH_INTENTS:
        return "high"
    return "normal"


def raised_risk(current: str, observed: str) -> str:
    """The higher of two risks: a conversation's risk is the highest seen and never goes down."""
    if observed not in RISK_RANK:
        raise ValueError(f"unknown risk level: {observed!r}")
    return observed if RISK_RANK[observed] > RISK_RANK.get(current, 0) else current
