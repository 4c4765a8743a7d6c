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
from datetime import datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Update, func, select, true, tuple_, update
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.queue import expected_wait_minutes, handling_minutes
from handoff_service.domain.shifts import ShiftStatus, danish_clock, danish_when
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation, Organisation, User
from handoff_service.organisations import (
    OpenStates,
    default_organisation,
    organisation_of,
    organisation_shift_status,
    place_in_queue,
    queue_ids_for,
    queue_sentence,
    reroute_waiting,
    route,
)
from handoff_service.schemas import OrganisationRef, QueueInfo, ServiceStatus, Triage
from handoff_service.statistics import record
from handoff_service.triage import merge_triage
from triage_core.risk import RiskLevel

#: The queue order: the most urgent first, then first come, first served.
QUEUE_ORDER = (Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
WAITING = Conversation.status == ConversationStatus.QUEUED
RECENT_HANDLINGS = 50


# -- places -----------------------------------------------------------------------------------


def in_queues(queue_ids: set[int] | None) -> Any:
    """The conversations of the given organisations' queues (None: every queue)."""
    return true() if queue_ids is None else Conversation.organisation_id.in_(queue_ids)


def waiting_conversations(
    session: Session, queue_ids: set[int] | None = None
) -> list[Conversation]:
    """Everyone waiting in the given queues (None: all), in queue order: the counsellor's list.

    Risk first across the queues a counsellor may take from, so the most urgent is on top."""
    return list(
        session.scalars(
            select(Conversation).where(WAITING, in_queues(queue_ids)).order_by(*QUEUE_ORDER)
        )
    )


@dataclass(frozen=True)
class WaitingPlace:
    organisation_id: int | None
    position: int
    reason: str | None
    origin_id: int | None


def waiting_places(session: Session) -> dict[str, WaitingPlace]:
    """Every waiting conversation's queue and place in it, in one ordered pass."""
    ordered = session.execute(
        select(
            Conversation.id,
            Conversation.organisation_id,
            Conversation.queue_reason,
            Conversation.origin_organisation_id,
        )
        .where(WAITING)
        .order_by(Conversation.organisation_id, *QUEUE_ORDER)
    )
    places: dict[str, WaitingPlace] = {}
    counts: dict[int | None, int] = {}
    for conversation_id, organisation_id, reason, origin_id in ordered:
        counts[organisation_id] = counts.get(organisation_id, 0) + 1
        places[conversation_id] = WaitingPlace(
            organisation_id, counts[organisation_id], reason, origin_id
        )
    return places


def all_queue_positions(session: Session) -> dict[str, int]:
    """Every waiting conversation's place in its own queue."""
    return {key: place.position for key, place in waiting_places(session).items()}


def waiting_by_queue(session: Session) -> dict[int, int]:
    """How many wait in each organisation's queue."""
    rows = session.execute(
        select(Conversation.organisation_id, func.count())
        .where(WAITING)
        .group_by(Conversation.organisation_id)
    )
    return {organisation_id: count for organisation_id, count in rows if organisation_id}


def queue_position(session: Session, conversation: Conversation) -> int:
    """1 + the conversations ahead in :data:`QUEUE_ORDER`: two range counts on the queue index,
    never a queue scan.

    Ahead are all waiting conversations of higher risk, and those of the same risk queued
    earlier (id breaks ties). tests/handoff_service/test_queue_order.py checks that this
    count agrees with the ordered list for random queues.
    """
    same_queue = Conversation.organisation_id == conversation.organisation_id
    higher_risk = (
        select(func.count())
        .where(WAITING, same_queue, Conversation.risk_rank > conversation.risk_rank)
        .scalar_subquery()
    )
    same_risk_earlier = (
        select(func.count())
        .where(
            WAITING,
            same_queue,
            Conversation.risk_rank == conversation.risk_rank,
            tuple_(Conversation.queued_at, Conversation.id)
            < tuple_(conversation.queued_at, conversation.id),
        )
        .scalar_subquery()
    )
    return (session.scalar(select(higher_risk + same_risk_earlier)) or 0) + 1


def waiting_count(session: Session, organisation_id: int | None = None) -> int:
    """How many wait in one organisation's queue (None: in all queues)."""
    where = (
        WAITING
        if organisation_id is None
        else (WAITING & (Conversation.organisation_id == organisation_id))
    )
    return session.scalar(select(func.count()).where(where)) or 0


# -- claiming and handing off -----------------------------------------------------------------


def claim_statement(counsellor_id: int, now: datetime, queue_ids: set[int] | None = None) -> Update:
    """One statement: take the first waiting conversation in queue order that nobody else holds.

    ``UPDATE conversations SET status='active', ... WHERE id = (SELECT id ... WHERE status='queued'
    ORDER BY <QUEUE_ORDER> LIMIT 1 FOR UPDATE SKIP LOCKED) AND status='queued' RETURNING id`` -
    the inner SELECT reads ix_conversations_queue from the top, skipping conversations of
    queues the counsellor may not take from (`queue_ids`, None: all). On PostgreSQL it locks
    that row and skips rows other counsellors are claiming, so two counsellors never get the
    same conversation and neither waits; SQLite has no SKIP LOCKED and serialises writers.
    """
    next_id = (
        select(Conversation.id)
        .where(WAITING, in_queues(queue_ids))
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
    """Claim the most urgent waiting conversation of `user`'s queues (audited); None if nobody
    waits there."""
    queue_ids = queue_ids_for(session, user)
    claimed_id = session.execute(claim_statement(user.id, now, queue_ids)).scalar_one_or_none()
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
    # Its own queue may have closed meanwhile: where the routing says, to an open one.
    reroute_waiting(session, utcnow(), only=conversation)
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
    """Queue the conversation (if with the bot) in the queue the routing names
    (handoff_service/organisations.py) and merge the triage. True if the queue changed.

    A conversation already waiting that has become critical moves to an open queue if its own
    is closed."""
    before = (conversation.status, conversation.risk_rank)
    merge_triage(conversation, triage)
    if conversation.status == ConversationStatus.QUEUED and conversation.risk_rank > before[1]:
        if conversation.risk == RiskLevel.CRITICAL:
            reroute_waiting(session, now, only=conversation)
    if conversation.status in (ConversationStatus.BOT, ConversationStatus.CLOSED):
        place_in_queue(session, conversation, now)
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


def current_shift_status(
    session: Session, settings: Settings, now: datetime, organisation_id: int | None = None
) -> ShiftStatus:
    """One organisation's shift status (None: the default organisation's)."""
    if organisation_id is None:
        organisation_id = default_organisation(session).id
    return organisation_shift_status(session, organisation_id, now, ZoneInfo(settings.timezone))


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
    """What every position's expected wait in one queue depends on, computed once per change."""

    shift: ShiftStatus
    handling: float
    waiting_count: int
    now: datetime
    tz: ZoneInfo
    queue: Organisation
    session: Session

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

    @cached_property
    def _sentences(self) -> dict[tuple[str | None, int | None], str]:
        return {}

    def queue_text(self, reason: str | None, origin_id: int | None) -> str:
        """Which queue and why, in one sentence (cached per reason and page of origin)."""
        key = (reason, origin_id)
        if key not in self._sentences:
            origin = (
                self.queue
                if origin_id in (None, self.queue.id)
                else organisation_of(self.session, origin_id)
            )
            self._sentences[key] = queue_sentence(
                reason, self.queue, origin, self.shift, self.now, self.tz
            )
        return self._sentences[key]

    def info(
        self, position: int, reason: str | None = None, origin_id: int | None = None
    ) -> QueueInfo:
        return QueueInfo(
            position=position,
            eta_minutes=self.eta_minutes(position),
            shift_open=self.shift.is_open,
            next_shift_start=self.shift.next_shift_start,
            next_shift_text=self.next_shift_text,
            waiting_count=self.waiting_count,
            queue=OrganisationRef(slug=self.queue.slug, name=self.queue.name),
            queue_text=self.queue_text(reason, origin_id),
        )

    @cached_property
    def _shared_json(self) -> dict[str, Any]:
        return self.info(1).model_dump(mode="json")

    def info_json(
        self, position: int, reason: str | None = None, origin_id: int | None = None
    ) -> dict[str, Any]:
        """info(position) as JSON without a model per waiting person (the push fast path)."""
        return {
            **self._shared_json,
            "position": position,
            "eta_minutes": self.eta_minutes(position),
            "queue_text": self.queue_text(reason, origin_id),
        }


def queue_context(
    session: Session,
    settings: Settings,
    now: datetime,
    organisation: Organisation | None = None,
    *,
    handling: float | None = None,
) -> QueueContext:
    """The context of one organisation's queue (None: the default organisation's)."""
    queue = organisation or default_organisation(session)
    return QueueContext(
        shift=current_shift_status(session, settings, now, queue.id),
        handling=recent_handling_minutes(session, settings) if handling is None else handling,
        waiting_count=waiting_count(session, queue.id),
        now=now,
        tz=ZoneInfo(settings.timezone),
        queue=queue,
        session=session,
    )


def queue_info(
    session: Session, settings: Settings, conversation: Conversation, now: datetime
) -> QueueInfo | None:
    """The young person's place and expected wait in their queue; None when not waiting."""
    if conversation.status != ConversationStatus.QUEUED:
        return None
    queue = organisation_of(session, conversation.organisation_id)
    return queue_context(session, settings, now, queue).info(
        queue_position(session, conversation),
        conversation.queue_reason,
        conversation.origin_organisation_id,
    )


def service_status(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    conversation: Conversation | None = None,
    origin: Organisation | None = None,
) -> ServiceStatus:
    """Open now?, current shift end, next shift start, waiting count, expected wait: for the bot
    and the chat page, for the queue a conversation handed off now would wait in (its own, if
    it waits already; else where the routing would send it; without one: the default page's)."""
    now = now or utcnow()
    reason: str | None
    if conversation is not None and conversation.status == ConversationStatus.QUEUED:
        queue = organisation_of(session, conversation.organisation_id)
        reason, origin_id = conversation.queue_reason, conversation.origin_organisation_id
    else:
        if origin is None:
            origin = organisation_of(
                session, conversation.origin_organisation_id if conversation else None
            )
        chosen = route(
            session,
            origin,
            conversation.risk if conversation else "normal",
            now,
            states=OpenStates(session, now, ZoneInfo(settings.timezone)),
        )
        queue, reason, origin_id = chosen.queue, chosen.reason, origin.id
    context = queue_context(session, settings, now, queue)
    next_info = context.info(context.waiting_count + 1, reason, origin_id)
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
        queue=next_info.queue,
        queue_text=next_info.queue_text,
    )
