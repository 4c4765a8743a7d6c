"""Which cells a conversation adds one to: pure, from its row and two message times.

Every cell is keyed to the ISO week and local hour of day the conversation started. The facts
and their definitions are listed in docs/statistics.md; keep the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handoff_service.statistics.codes import (
    AGE_BANDS,
    FEEDBACK_HELPED,
    FEEDBACK_RATINGS,
    FEEDBACK_WRITE_AGAIN,
    GENDERS,
    LOCAL_TZ,
    ORGANISATION,
    OUTCOMES,
    REFERRALS,
    REGISTRATION_TOPICS,
    RISKS,
    TOPICS,
    UNANSWERED,
    bucket,
)

#: (organisation, ISO week, hour of day, metric, category)
CellKey = tuple[str, str, int, str, str]


@dataclass(frozen=True)
class ConversationFacts:
    """What the statistics read from a conversation (no text, no id)."""

    created_at: datetime
    status: str
    risk: str
    topic: str | None
    outcome: str | None
    queued_at: datetime | None
    closed_at: datetime | None
    letterbox_picked_up: bool
    feedback: dict[str, Any] | None
    registration: dict[str, Any] | None
    # The first counsellor message ever, and the first since the conversation was last queued.
    first_counsellor_message: datetime | None
    first_reply_since_queued: datetime | None


def iso_week(moment: datetime, tz: ZoneInfo = LOCAL_TZ) -> tuple[str, int]:
    """The ISO week ("2026-W49") and hour of day (0-23) of `moment` in local time."""
    local = moment.astimezone(tz)
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", local.hour


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60


def _code(value: Any, allowed: tuple[str, ...]) -> str | None:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    return text if text in allowed else None


def metric_categories(facts: ConversationFacts) -> set[tuple[str, str]]:
    """The (metric, category) pairs the conversation counts in now."""
    cells = {("started", "all")}
    risk = facts.risk if facts.risk in RISKS else "normal"
    cells.add(("risk_all", risk))
    cells.add(("topic", facts.topic if facts.topic in TOPICS else "unknown"))
    closed = facts.status == "closed"
    handed_off = facts.queued_at is not None
    answered = facts.first_counsellor_message is not None and facts.outcome != "no_response"
    if handed_off:
        cells.add(("handed_off", "all"))
        cells.add(("risk", risk))
        if answered:
            cells.add(("answered", "all"))
        elif closed:
            cells.add(("abandoned", "all"))
        reply = facts.first_reply_since_queued
        if reply is not None and facts.queued_at is not None:
            cells.add(("wait", bucket(_minutes(facts.queued_at, reply))))
            if closed and facts.closed_at is not None:
                cells.add(("handling", bucket(_minutes(reply, facts.closed_at))))
        elif closed:
            cells.add(("wait", UNANSWERED))
    if facts.outcome == "answered_letterbox" or facts.letterbox_picked_up:
        cells.add(("letterbox_left", "all"))
    if facts.letterbox_picked_up:
        cells.add(("letterbox_picked_up", "all"))
    if closed and (outcome := _code(facts.outcome, OUTCOMES)):
        cells.add(("outcome", outcome))
    feedback = facts.feedback or {}
    for metric, field, allowed in (
        ("feedback_helped", "helped", FEEDBACK_HELPED),
        ("feedback_write_again", "write_again", FEEDBACK_WRITE_AGAIN),
        ("feedback_rating", "rating", FEEDBACK_RATINGS),
    ):
        if answer := _code(feedback.get(field), allowed):
            cells.add((metric, answer))
    registration = facts.registration or {}
    for topic in registration.get("topics") or ():
        if chosen := _code(topic, REGISTRATION_TOPICS):
            cells.add(("registration_topic", chosen))
    for metric, field, allowed in (
        ("registration_age", "age_band", AGE_BANDS),
        ("registration_gender", "gender", GENDERS),
        ("registration_referral", "referral", REFERRALS),
    ):
        if answer := _code(registration.get(field), allowed):
            cells.add((metric, answer))
    return cells


def cell_keys(facts: ConversationFacts, organisation: str = ORGANISATION) -> set[CellKey]:
    week, hour = iso_week(facts.created_at)
    return {
        (organisation, week, hour, metric, category)
        for metric, category in metric_categories(facts)
    }
