"""Operations on conversations and the queue that need the database (routes stay thin)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.queue import QueueEntry, expected_wait_minutes, handling_minutes, queue_positions
from handoff_service.domain.risk import RISK_RANK, raised_risk, risk_of_intent
from handoff_service.domain.shifts import DateException, ShiftStatus, WeeklyRule, danish_when, shift_status
from handoff_service.models import AuditEvent, Conversation, Message, ShiftException, User, WeeklyShift
from handoff_service.schemas import MessageOut, QueueInfo, Triage
from handoff_service.security import hash_conversation_token, new_conversation_token

GENERIC_TOPICS = frozenset({None, "request_human", "out_of_scope", "unknown", "greet", "nlu_fallback"})
RECENT_HANDLINGS = 50


def message_out(message: Message) -> MessageOut:
    return MessageOut(id=message.id, sender=message.sender, text=message.text, created_at=message.created_at)


def create_conversation(session: Session) -> tuple[Conversation, str]:
    token = new_conversation_token()
    conversation = Conversation(
        id=str(uuid.uuid4()), token_hash=hash_conversation_token(token), status="bot", triage={}
    )
    session.add(conversation)
    session.flush()
    return conversation, token


def add_message(session: Session, conversation: Conversation, sender: str, text: str) -> Message:
    message = Message(conversation_id=conversation.id, sender=sender, text=text)
    session.add(message)
    message.created_at = conversation.updated_at = utcnow()
    session.flush()
    return message


# -- shifts ---------------------------------------------------------------------------------


def current_shift_status(session: Session, settings: Settings, now: datetime) -> ShiftStatus:
    weekly = [
        WeeklyRule(s.weekday, s.starts_at, s.ends_at, s.counsellors)
        for s in session.scalars(select(WeeklyShift))
    ]
    horizon_start = (now - timedelta(days=2)).date()
    exceptions = [
        DateException(e.on_date, e.kind, e.starts_at, e.ends_at, e.counsellors)
        for e in session.scalars(select(ShiftException).where(ShiftException.on_date >= horizon_start))
    ]
    return shift_status(now, weekly, exceptions, ZoneInfo(settings.timezone))


def recent_handling_minutes(session: Session, settings: Settings) -> float:
    rows = session.execute(
        select(Conversation.claimed_at, Conversation.closed_at)
        .where(Conversation.closed_at.is_not(None), Conversation.claimed_at.is_not(None))
        .order_by(Conversation.closed_at.desc())
        .limit(RECENT_HANDLINGS)
    ).all()
    durations = [(closed - claimed).total_seconds() / 60 for claimed, closed in rows]
    return handling_minutes(durations, settings.default_handling_minutes)


# -- queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueContext:
    """What every position's expected wait depends on, computed once per change."""

    shift: ShiftStatus
    handling: float
    waiting_count: int
    now: datetime
    tz: ZoneInfo

    def info(self, position: int) -> QueueInfo:
        counsellors = (
            self.shift.counsellors_on_shift if self.shift.is_open else self.shift.next_shift_counsellors
        )
        return QueueInfo(
            position=position,
            eta_minutes=expected_wait_minutes(
                position,
                shift_open=self.shift.is_open,
                counsellors=counsellors,
                handling=self.handling,
                minutes_until_next_shift=self.shift.minutes_until_next_shift(self.now),
            ),
            shift_open=self.shift.is_open,
            next_shift_start=self.shift.next_shift_start,
            next_shift_text=(
                danish_when(self.shift.next_shift_start, self.now, self.tz)
                if self.shift.next_shift_start
                else None
            ),
            waiting_count=self.waiting_count,
        )


def queue_context(session: Session, settings: Settings, now: datetime) -> QueueContext:
    waiting = session.scalar(select(func.count()).where(Conversation.status == "queued")) or 0
    return QueueContext(
        shift=current_shift_status(session, settings, now),
        handling=recent_handling_minutes(session, settings),
        waiting_count=waiting,
        now=now,
        tz=ZoneInfo(settings.timezone),
    )


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 + the number of waiting conversations ahead, answered by the queue index."""
    ahead = session.scalar(
        select(func.count()).where(
            Conversation.status == "queued",
            or_(
                Conversation.risk_rank > conversation.risk_rank,
                and_(
                    Conversation.risk_rank == conversation.risk_rank,
                    or_(
                        Conversation.queued_at < conversation.queued_at,
                        and_(
                            Conversation.queued_at == conversation.queued_at,
                            Conversation.id < conversation.id,
                        ),
                    ),
                ),
            ),
        )
    )
    return (ahead or 0) + 1


def queue_info(
    session: Session, settings: Settings, conversation: Conversation, now: datetime
) -> QueueInfo | None:
    if conversation.status != "queued":
        return None
    return queue_context(session, settings, now).info(queue_position(session, conversation))


def all_queue_positions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Conversation.id, Conversation.risk_rank, Conversation.queued_at).where(
            Conversation.status == "queued"
        )
    ).all()
    return queue_positions(QueueEntry(cid, rank, queued_at) for cid, rank, queued_at in rows)


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
    observed = raised_risk(triage.risk, max((risk_of_intent(i) for i in triage.intents), key=RISK_RANK.get, default="normal"))
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
    topic_is_riskier = RISK_RANK[risk_of_intent(triage.topic)] > RISK_RANK[risk_of_intent(conversation.topic)]
    if triage.topic not in GENERIC_TOPICS and (conversation.topic in GENERIC_TOPICS or topic_is_riskier or risk_of_intent(conversation.topic) == "normal"):
        conversation.topic = triage.topic
    elif conversation.topic is None and triage.topic:
        conversation.topic = triage.topic
    conversation.triage = merged
    conversation.risk = new_risk
    conversation.risk_rank = RISK_RANK[new_risk]


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
    return (conversation.status, conversation.risk_rank) != before and conversation.status == "queued"


def claim_next(session: Session, user: User, now: datetime) -> Conversation | None:
    """Claim the most urgent waiting conversation in one statement.

    On PostgreSQL the inner SELECT takes a row lock and skips rows other counsellors hold, so two
    counsellors never get the same conversation; SQLite serialises writers and ignores SKIP LOCKED.
    """
    next_id = (
        select(Conversation.id)
        .where(Conversation.status == "queued")
        .order_by(Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed_id = session.execute(
        update(Conversation)
        .where(Conversation.id == next_id, Conversation.status == "queued")
        .values(status="active", counsellor_id=user.id, claimed_at=now, updated_at=now)
        .returning(Conversation.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if claimed_id is None:
        return None
    audit(session, user, claimed_id, "claim")
    session.flush()
    conversation = session.get(Conversation, claimed_id, populate_existing=True)
    return conversation


def release(session: Session, conversation: Conversation, user: User) -> None:
    # Back to the queue at its original place: the young person has waited already.
    conversation.status = "queued"
    conversation.counsellor_id = None
    conversation.claimed_at = None
    audit(session, user, conversation.id, "release")
    session.flush()


def close(session: Session, conversation: Conversation, user: User, outcome: str, now: datetime) -> None:
    conversation.status = "closed"
    conversation.outcome = outcome
    conversation.closed_at = now
    audit(session, user, conversation.id, "close")
    session.flush()


def audit(session: Session, user: User | None, conversation_id: str | None, action: str) -> None:
    session.add(AuditEvent(user_id=user.id if user else None, conversation_id=conversation_id, action=action))


# -- summaries ------------------------------------------------------------------------------


def triage_summary(conversation: Conversation, texts: dict[str, Any]) -> str:
    """A short Danish line for the queue: risk, topic, carer, substance, what the bot gave."""
    triage = conversation.triage or {}
    parts = [texts["risk_labels"][conversation.risk], topic_label(conversation.topic, texts)]
    entities = triage.get("entities", {})
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
