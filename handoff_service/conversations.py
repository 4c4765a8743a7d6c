"""Operations on conversations and the queue that need the database (routes stay thin)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Update, func, select, tuple_, update
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.queue import expected_wait_minutes, handling_minutes
from handoff_service.domain.risk import RISK_RANK, raised_risk, risk_of_intent
from handoff_service.domain.shifts import ShiftStatus, danish_clock, danish_when, shift_status
from handoff_service.models import AuditEvent, Conversation, Message, User
from handoff_service.schemas import MessageOut, QueueInfo, ServiceStatus, Triage
from handoff_service.security import hash_conversation_token, new_conversation_token
from handoff_service.shift_calendar import date_exceptions, weekly_rules

GENERIC_TOPICS = frozenset(
    {None, "request_human", "out_of_scope", "unknown", "greet", "nlu_fallback"}
)
RECENT_HANDLINGS = 50


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        sender=message.sender,
        text=message.text,
        created_at=message.created_at,
        quick_replies=message.quick_replies or None,
    )


def create_conversation(session: Session) -> tuple[Conversation, str]:
    token = new_conversation_token()
    conversation = Conversation(
        id=str(uuid.uuid4()), token_hash=hash_conversation_token(token), status="bot", triage={}
    )
    session.add(conversation)
    session.flush()
    return conversation, token


def add_message(
    session: Session,
    conversation: Conversation,
    sender: str,
    text: str,
    client_message_id: str | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        sender=sender,
        text=text,
        client_message_id=client_message_id,
    )
    session.add(message)
    message.created_at = conversation.updated_at = utcnow()
    session.flush()
    return message


# -- shifts ---------------------------------------------------------------------------------


def current_shift_status(session: Session, settings: Settings, now: datetime) -> ShiftStatus:
    exceptions = date_exceptions(session, (now - timedelta(days=2)).date())
    return shift_status(now, weekly_rules(session), exceptions, ZoneInfo(settings.timezone))


def recent_handling_minutes(session: Session, settings: Settings) -> float:
    rows = session.execute(
        select(Conversation.claimed_at, Conversation.closed_at)
        .where(Conversation.closed_at.is_not(None), Conversation.claimed_at.is_not(None))
        .order_by(Conversation.closed_at.desc())
        .limit(RECENT_HANDLINGS)
    ).all()
    durations = [
        (closed - claimed).total_seconds() / 60
        for claimed, closed in rows
        if claimed is not None and closed is not None  # the query excludes both; for the type
    ]
    return handling_minutes(durations, settings.default_handling_minutes)


# -- queue ----------------------------------------------------------------------------------


@dataclass
class QueueContext:
    """What every position's expected wait depends on, computed once per change."""

    shift: ShiftStatus
    handling: float
    waiting_count: int
    now: datetime
    tz: ZoneInfo

    def eta_minutes(self, position: int) -> int | None:
        shift = self.shift
        return expected_wait_minutes(
            position,
            shift_open=shift.is_open,
            counsellors=shift.counsellors_on_shift
            if shift.is_open
            else shift.next_shift_counsellors,
            handling=self.handling,
            minutes_until_next_shift=shift.minutes_until_next_shift(self.now),
            minutes_until_shift_end=(
                (shift.current_shift_end - self.now).total_seconds() / 60
                if shift.current_shift_end
                else None
            ),
            next_shift_counsellors=shift.next_shift_counsellors,
        )

    @cached_property
    def next_shift_text(self) -> str | None:
        start = self.shift.next_shift_start
        return danish_when(start, self.now, self.tz) if start else None

    def info(self, position: int) -> QueueInfo:
        return QueueInfo(
            position=position,
            eta_minutes=self.eta_minutes(position),
            shift_open=self.shift.is_open,
            next_shift_start=self.shift.next_shift_start,
            next_shift_text=self.next_shift_text,
            waiting_count=self.waiting_count,
        )

    @cached_property
    def _shared_json(self) -> dict[str, Any]:
        return self.info(1).model_dump(mode="json")

    def info_json(self, position: int) -> dict[str, Any]:
        """info(position) as JSON without a model per waiting person (the push fast path)."""
        return {
            **self._shared_json,
            "position": position,
            "eta_minutes": self.eta_minutes(position),
        }


def queue_context(session: Session, settings: Settings, now: datetime) -> QueueContext:
    waiting = session.scalar(select(func.count()).where(Conversation.status == "queued")) or 0
    return QueueContext(
        shift=current_shift_status(session, settings, now),
        handling=recent_handling_minutes(session, settings),
        waiting_count=waiting,
        now=now,
        tz=ZoneInfo(settings.timezone),
    )


def service_status(
    session: Session, settings: Settings, now: datetime | None = None
) -> ServiceStatus:
    """Open now?, current shift end, next shift start, waiting count, expected wait: for the bot."""
    now = now or utcnow()
    context = queue_context(session, settings, now)
    next_info = context.info(context.waiting_count + 1)
    return ServiceStatus(
        shift_open=context.shift.is_open,
        current_shift_end=context.shift.current_shift_end,
        current_shift_end_text=(
            danish_clock(context.shift.current_shift_end, context.tz)
            if context.shift.current_shift_end
            else None
        ),
        next_shift_start=context.shift.next_shift_start,
        next_shift_text=next_info.next_shift_text,
        counsellors_on_shift=context.shift.counsellors_on_shift,
        waiting_count=context.waiting_count,
        eta_minutes=next_info.eta_minutes,
    )


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 + the conversations ahead: two range counts on the queue index, never a queue scan.

    Ahead are all waiting conversations of higher risk, and those of the same risk queued
    earlier (id breaks ties, as in the claim order).
    """
    waiting = Conversation.status == "queued"
    higher_risk = (
        select(func.count())
        .where(waiting, Conversation.risk_rank > conversation.risk_rank)
        .scalar_subquery()
    )
    same_risk_earlier = (
        select(func.count())
        .where(
            waiting,
            Conversation.risk_rank == conversation.risk_rank,
            tuple_(Conversation.queued_at, Conversation.id)
            < tuple_(conversation.queued_at, conversation.id),
        )
        .scalar_subquery()
    )
    return (session.scalar(select(higher_risk + same_risk_earlier)) or 0) + 1


def queue_info(
    session: Session, settings: Settings, conversation: Conversation, now: datetime
) -> QueueInfo | None:
    if conversation.status != "queued":
        return None
    return queue_context(session, settings, now).info(queue_position(session, conversation))


def all_queue_positions(session: Session) -> dict[str, int]:
    """Every waiting conversation's position, in one ordered pass over the queue index."""
    ordered = session.scalars(
        select(Conversation.id)
        .where(Conversation.status == "queued")
        .order_by(Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
    )
    return {conversation_id: place for place, conversation_id in enumerate(ordered, start=1)}


def waiting_conversations(session: Session) -> list[Conversation]:
    return list(
        session.scalars(
            select(Conversation)
            .where(Conversation.status == "queued")
            .order_by(Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
        )
    )


# -- triage and handoff ---------------------------------------------------------------------


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    return first + [item for item in second if item not in first]


def merge_triage(conversation: Conversation, triage: Triage) -> None:
    """Fold what the bot learned into the conversation; risk is the highest ever seen."""
    old: dict[str, Any] = dict(conversation.triage or {})
    observed = raised_risk(
        triage.risk,
        max(
            (risk_of_intent(i) for i in triage.intents),
            key=RISK_RANK.__getitem__,
            default="normal",
        ),
    )
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
    topic_is_riskier = (
        RISK_RANK[risk_of_intent(triage.topic)] > RISK_RANK[risk_of_intent(conversation.topic)]
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
    conversation.risk = new_risk
    conversation.risk_rank = RISK_RANK[new_risk]


def queue_change(before: tuple[str, int], conversation: Conversation) -> str | None:
    """Why the queue changed between `before` (status, risk_rank) and now, or None if it did not."""
    status_before, rank_before = before
    if conversation.status == "queued" and status_before != "queued":
        return "handoff"
    if conversation.status == "queued" and conversation.risk_rank > rank_before:
        return "risk"
    if status_before == "queued" and conversation.status != "queued":
        return "claim" if conversation.status == "active" else "close"
    return None


def hand_off(session: Session, conversation: Conversation, triage: Triage, now: datetime) -> bool:
    """Queue the conversation (if with the bot) and merge the triage. True if the queue changed."""
    before = (conversation.status, conversation.risk_rank)
    merge_triage(conversation, triage)
    if conversation.status in ("bot", "closed"):
        conversation.status = "queued"
        conversation.queued_at = now
        conversation.closed_at = None
        conversation.outcome = None
        conversation.counsellor_id = None
    session.flush()
    return (
        conversation.status,
        conversation.risk_rank,
    ) != before and conversation.status == "queued"


def claim_statement(counsellor_id: int, now: datetime) -> Update:
    """One statement: take the first waiting conversation in queue order that nobody else holds.

    ``UPDATE conversations SET status='active', ... WHERE id = (SELECT id ... WHERE status='queued'
    ORDER BY risk_rank DESC, queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) AND status='queued'
    RETURNING id`` - the inner SELECT reads the first entry of ix_conversations_queue. On
    PostgreSQL it locks that row and skips rows other counsellors are claiming, so two
    counsellors never get the same conversation and neither waits; SQLite has no SKIP LOCKED and
    serialises writers instead.
    """
    next_id = (
        select(Conversation.id)
        .where(Conversation.status == "queued")
        .order_by(Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(Conversation)
        .where(Conversation.id == next_id, Conversation.status == "queued")
        .values(status="active", counsellor_id=counsellor_id, claimed_at=now, updated_at=now)
        .returning(Conversation.id)
        .execution_options(synchronize_session=False)
    )


def claim_next(session: Session, user: User, now: datetime) -> Conversation | None:
    """Claim the most urgent waiting conversation for `user` (audited); None if nobody waits."""
    claimed_id = session.execute(claim_statement(user.id, now)).scalar_one_or_none()
    if claimed_id is None:
        return None
    audit(session, user, claimed_id, "claim")
    session.flush()
    return session.get(Conversation, claimed_id, populate_existing=True)


def release(
    session: Session, conversation: Conversation, user: User | None, action: str = "release"
) -> None:
    # Back to the queue at its original place: the young person has waited already.
    conversation.status = "queued"
    conversation.counsellor_id = None
    conversation.claimed_at = None
    audit(session, user, conversation.id, action)
    session.flush()


def release_all_held_by(session: Session, counsellor: User, by: User) -> list[Conversation]:
    """A disabled counsellor's open conversations go back to the queue: nobody is left hanging."""
    held = list(
        session.scalars(
            select(Conversation).where(
                Conversation.status == "active", Conversation.counsellor_id == counsellor.id
            )
        )
    )
    for conversation in held:
        release(session, conversation, by, action="release_on_disable")
    return held


def close(
    session: Session, conversation: Conversation, user: User, outcome: str, now: datetime
) -> None:
    conversation.status = "closed"
    conversation.outcome = outcome
    conversation.closed_at = now
    audit(session, user, conversation.id, "close")
    session.flush()


def audit(
    session: Session,
    user: User | None,
    conversation_id: str | None,
    action: str,
    subject_user_id: int | None = None,
) -> None:
    """Who did what to which conversation or user, never what was written."""
    session.add(
        AuditEvent(
            user_id=user.id if user else None,
            conversation_id=conversation_id,
            subject_user_id=subject_user_id,
            action=action,
        )
    )


# -- summaries ------------------------------------------------------------------------------


def triage_summary(conversation: Conversation, texts: dict[str, Any]) -> str:
    """A short Danish line for the queue: risk, topic, carer, substance, what the bot gave."""
    triage = conversation.triage or {}
    parts = [texts["risk_labels"][conversation.risk], topic_label(conversation.topic, texts)]
    entities = triage.get("entities", {})
    if dangers := [texts["danger_labels"].get(d) for d in entities.get("danger", [])]:
        # The kind of danger the bot answered: the guidance the young person has already had.
        parts.append("fare: " + ", ".join(dict.fromkeys(d for d in dangers if d)))
    if entities.get("carer"):
        parts.append("omsorgsperson: " + ", ".join(entities["carer"]))
    if entities.get("substance"):
        parts.append("rusmiddel: " + ", ".join(entities["substance"]))
    other_topics = [
        topic_label(i, texts)
        for i in triage.get("intents", [])
        if i in texts["topic_labels"] and i != conversation.topic and i not in GENERIC_TOPICS
    ]
    if other_topics:
        parts.append("også: " + ", ".join(dict.fromkeys(other_topics)))
    given = len(triage.get("content_given", []))
    if given:
        parts.append(f"botten har givet {given} tekst{'er' if given > 1 else ''}")
    return " · ".join(parts)


def topic_label(topic: str | None, texts: dict[str, Any]) -> str:
    labels = texts["topic_labels"]
    return labels.get(topic or "unknown", labels["unknown"])
