"""The queue: its order, places, claiming and handing off, and what a waiting person is told.

The order is written once, in :data:`QUEUE_ORDER`: risk first (critical, high, normal), then the
time the conversation was queued, then id as a tie-breaker so the order is total and the same on
every database. Claiming, the waiting list and every young person's place use it;
ix_conversations_queue (handoff_service/models.py) is the same order after ``status``, which a
test checks, so a claim reads the first index entry and a place is two index range counts.
The expected-wait formula is pure and lives in handoff_service/domain/queue.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Update, func, select, tuple_, update
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.queue import expected_wait_minutes, handling_minutes
from handoff_service.domain.shifts import ShiftStatus, danish_clock, danish_when, shift_status
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation, User
from handoff_service.schemas import QueueInfo, ServiceStatus, Triage
from handoff_service.shift_calendar import date_exceptions, weekly_rules
from handoff_service.statistics import record
from handoff_service.triage import merge_triage

#: The queue order: the most urgent first, then first come, first served.
QUEUE_ORDER = (Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
WAITING = Conversation.status == ConversationStatus.QUEUED
RECENT_HANDLINGS = 50


# -- places -----------------------------------------------------------------------------------


def waiting_conversations(session: Session) -> list[Conversation]:
    """Everyone waiting, in queue order (the counsellor's queue)."""
    return list(session.scalars(select(Conversation).where(WAITING).order_by(*QUEUE_ORDER)))


def all_queue_positions(session: Session) -> dict[str, int]:
    """Every waiting conversation's place, in one ordered pass over the queue index."""
    ordered = session.scalars(select(Conversation.id).where(WAITING).order_by(*QUEUE_ORDER))
    return {conversation_id: place for place, conversation_id in enumerate(ordered, start=1)}


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 + the conversations ahead in :data:`QUEUE_ORDER`: two range counts on the queue index,
    never a queue scan.

    Ahead are all waiting conversations of higher risk, and those of the same risk queued
    earlier (id breaks ties). tests/handoff_service/test_queue_order.py checks that this
    count agrees with the ordered list for random queues.
    """
    higher_risk = (
        select(func.count())
        .where(WAITING, Conversation.risk_rank > conversation.risk_rank)
        .scalar_subquery()
    )
    same_risk_earlier = (
        select(func.count())
        .where(
            WAITING,
            Conversation.risk_rank == conversation.risk_rank,
            tuple_(Conversation.queued_at, Conversation.id)
            < tuple_(conversation.queued_at, conversation.id),
        )
        .scalar_subquery()
    )
    return (session.scalar(select(higher_risk + same_risk_earlier)) or 0) + 1


def waiting_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(WAITING)) or 0


# -- claiming and handing off -----------------------------------------------------------------


def claim_statement(counsellor_id: int, now: datetime) -> Update:
    """One statement: take the first waiting conversation in queue order that nobody else holds.

    ``UPDATE conversations SET status='active', ... WHERE id = (SELECT id ... WHERE status='queued'
    ORDER BY <QUEUE_ORDER> LIMIT 1 FOR UPDATE SKIP LOCKED) AND status='queued' RETURNING id`` -
    the inner SELECT reads the first entry of ix_conversations_queue. On PostgreSQL it locks
    that row and skips rows other counsellors are claiming, so two counsellors never get the
    same conversation and neither waits; SQLite has no SKIP LOCKED and serialises writers.
    """
    next_id = (
        select(Conversation.id)
        .where(WAITING)
        .order_by(*QUEUE_ORDER)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(Conversation)
        .where(Conversation.id == next_id, WAITING)
        .values(
            status=ConversationStatus.ACTIVE.value,
            counsellor_id=counsellor_id,
            claimed_at=now,
            updated_at=now,
        )
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
    session: Session,
    conversation: Conversation,
    user: User | None,
    action: str = "release",
    *,
    subject_user_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Back to the queue at its original place: the young person has waited already.

    `user` is who released it (None: the service itself, e.g. the stale-claim job, which names
    the counsellor whose claim lapsed as `subject_user_id`)."""
    conversation.status = ConversationStatus.QUEUED.value
    conversation.counsellor_id = None
    conversation.claimed_at = None
    audit(session, user, conversation.id, action, subject_user_id=subject_user_id, reason=reason)
    session.flush()


def release_all_held_by(session: Session, counsellor: User, by: User) -> list[Conversation]:
    """A disabled counsellor's open conversations go back to the queue: nobody is left hanging."""
    held = list(
        session.scalars(
            select(Conversation).where(
                Conversation.status == ConversationStatus.ACTIVE,
                Conversation.counsellor_id == counsellor.id,
            )
        )
    )
    for conversation in held:
        release(session, conversation, by, action="release_on_disable")
    return held


def hand_off(session: Session, conversation: Conversation, triage: Triage, now: datetime) -> bool:
    """Queue the conversation (if with the bot) and merge the triage. True if the queue changed."""
    before = (conversation.status, conversation.risk_rank)
    merge_triage(conversation, triage)
    if conversation.status in (ConversationStatus.BOT, ConversationStatus.CLOSED):
        if conversation.outcome == "answered_letterbox":
            # The young person came back to an answer left for later (docs/statistics.md).
            conversation.letterbox_picked_up = True
        conversation.status = ConversationStatus.QUEUED.value
        conversation.queued_at = now
        conversation.closed_at = None
        conversation.outcome = None
        conversation.counsellor_id = None
    record(session, conversation)  # the statistics; flushes
    return (
        conversation.status,
        conversation.risk_rank,
    ) != before and conversation.status == ConversationStatus.QUEUED


def queue_change(before: tuple[str, int], conversation: Conversation) -> str | None:
    """Why the queue changed between `before` (status, risk_rank) and now, or None if it did not."""
    status_before, rank_before = before
    queued = ConversationStatus.QUEUED
    if conversation.status == queued and status_before != queued:
        return "handoff"
    if conversation.status == queued and conversation.risk_rank > rank_before:
        return "risk"
    if status_before == queued and conversation.status != queued:
        return "claim" if conversation.status == ConversationStatus.ACTIVE else "close"
    return None


# -- what a waiting person is told ------------------------------------------------------------


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
    return QueueContext(
        shift=current_shift_status(session, settings, now),
        handling=recent_handling_minutes(session, settings),
        waiting_count=waiting_count(session),
        now=now,
        tz=ZoneInfo(settings.timezone),
    )


def queue_info(
    session: Session, settings: Settings, conversation: Conversation, now: datetime
) -> QueueInfo | None:
    """The young person's place and expected wait; None when not waiting."""
    if conversation.status != ConversationStatus.QUEUED:
        return None
    return queue_context(session, settings, now).info(queue_position(session, conversation))


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
