"""ORM models. Message text lives only in the messages table; nothing here holds an IP address."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from handoff_service.db import Base, UTCDateTime, utcnow


class Organisation(Base):
    """A municipality, a service or a network: one queue, one shift calendar, its own page.

    A municipality may be a member of a network (``network_id``): while its own team is closed,
    its young people wait in the network's queue, which the network's shared rota staffs
    (handoff_service/organisations.py, docs/organisations.md). The default organisation is the
    plain ``/`` page's (the shared network, or the only organisation of a single setup)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="service")  # municipality|network|service
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True
    )
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Approved content, written by the organisation's admin: who runs it, for whom, what is
    # confidential; and its local services (title, text, phone, address, url, source).
    presentation: Mapped[str] = mapped_column(Text, default="")
    age_range: Mapped[str] = mapped_column(String(40), default="")
    confidentiality: Mapped[str] = mapped_column(Text, default="")
    local_info: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # counsellor | trainer | admin | leader
    # The organisation the user works for; None: the whole platform (a platform admin).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout or disable so every token issued before stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefreshToken(Base):
    """One refresh token of a staff login (handoff_service/refresh_tokens.py): only its hash.

    A login starts a family; every refresh revokes the token it used and adds the next one to the
    same family. A revoked token presented again (reuse) revokes the whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The idle timeout: no refresh by then and the token (so the family) is over.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The absolute lifetime of the family (a shift), copied onto every token of it.
    family_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    # Keyed hash of the short pickup code (handoff_service/pickup.py); the code itself is never
    # stored. None for conversations started before pickup codes existed.
    pickup_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot|queued|active|closed
    risk: Mapped[str] = mapped_column(String(16), default="normal")
    risk_rank: Mapped[int] = mapped_column(Integer, default=0)
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The queue the conversation is in (an organisation's), and the page it started on; why it
    # is in that queue (handoff_service/organisations.py ROUTE_REASONS), for the young person.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True
    )
    origin_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True
    )
    queue_reason: Mapped[str | None] = mapped_column(String(24), nullable=True)
    triage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counsellor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    anonymity_broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The holding counsellor's last sign of being there that leaves no other trace: the page's
    # keep-alive ("Jeg er her stadig"). Replies, claims and opening the conversation are read
    # from the messages and the audit trail (handoff_service/stale_claims.py).
    counsellor_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Statistics (issue #17, docs/statistics.md). The young person's anonymous answers (fixed
    # codes, handoff_service/statistics/feedback.py) and the counsellor's registration (codes from
    # fixed lists, never text); both deleted with the conversation.
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    registration: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The stat_cells keys this conversation currently adds one to (handoff_service/statistics/),
    # so recording again applies only the difference and deleting it leaves the counts alone.
    stats_contribution: Mapped[list[list[Any]] | None] = mapped_column(JSON, nullable=True)
    # An answer left for later (outcome answered_letterbox) that the young person came back to.
    letterbox_picked_up: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


# The queue order itself, so claiming reads the first entry and a position is two range counts.
_QUEUE_ORDER_COLUMNS = (Conversation.risk_rank.desc(), Conversation.queued_at, Conversation.id)
Index("ix_conversations_queue", Conversation.status, *_QUEUE_ORDER_COLUMNS)
# The same order within one organisation's queue: a place in it is two range counts there.
Index(
    "ix_conversations_queue_by_organisation",
    Conversation.organisation_id,
    Conversation.status,
    *_QUEUE_ORDER_COLUMNS,
)
Index("ix_conversations_closed_at", Conversation.closed_at)
Index("ix_conversations_status_updated_at", Conversation.status, Conversation.updated_at)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(16))  # young | bot | counsellor
    text: Mapped[str] = mapped_column(Text)
    # The titles of a bot line's buttons (Rasa quick replies); None for every other message.
    quick_replies: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The chat page's own id for a young person's message, reused when it sends again after an
    # error: a retry finds the first turn instead of storing the message twice.
    client_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class ConversationNote(Base):
    """A counsellor's internal note on a conversation (handoff_service/shift_tools.py).

    Staff only: never in the young person's view or stream, never logged, never in the audit trail
    (which records only "note_added"). Deleted with the conversation (ON DELETE CASCADE, and
    explicitly by the retention job)."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# One message per client message id in a conversation (NULLs, every other message, never clash).
Index(
    "ix_messages_client_message_id",
    Message.conversation_id,
    Message.client_message_id,
    unique=True,
)


class AuditEvent(Base):
    """Who did what to which conversation, never what was written."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # No foreign key: the trail outlives conversations deleted by the retention job.
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # The user an admin created, changed or disabled; no foreign key for the same reason.
    subject_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    # Why, as one of a fixed set of codes (e.g. a release's "needs_specialist"), never free text.
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WeeklyShift(Base):
    """A recurring counsellor shift in local (Europe/Copenhagen) wall-clock time."""

    __tablename__ = "weekly_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # A network's shift names the member organisation whose counsellors staff it (the rota).
    staffed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)
    counsellors: Mapped[int] = mapped_column(Integer, default=1)


class ShiftException(Base):
    """A closed date (holiday) or an extra shift on one date, in local wall-clock time."""

    __tablename__ = "shift_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    staffed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True
    )
    on_date: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(8))  # closed | extra
    starts_at: Mapped[time | None] = mapped_column(Time, nullable=True)
    ends_at: Mapped[time | None] = mapped_column(Time, nullable=True)
    counsellors: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)


class StatCell(Base):
    """One count of the statistics that outlive retention (docs/statistics.md).

    Keyed by organisation, the ISO week and local hour of day the conversation started, a metric
    and a category (both fixed codes). No text, no ids, nothing finer than the hour."""

    __tablename__ = "stat_cells"
    __table_args__ = (
        UniqueConstraint("organisation", "period_week", "hour_of_day", "metric", "category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    period_week: Mapped[str] = mapped_column(String(8))  # ISO week, e.g. "2026-W49"
    hour_of_day: Mapped[int] = mapped_column(Integer)  # 0-23, Europe/Copenhagen
    metric: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)


class StatServiceHour(Base):
    """An hour (UTC, truncated) in which at least one counsellor was on shift, marked once, so
    the service-hours count never doubles across restarts or processes."""

    __tablename__ = "stat_service_hours"
    __table_args__ = (UniqueConstraint("organisation", "hour_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime)


# The trainer inbox's tables (handoff_service/trainer_inbox.py), so the metadata knows them.
from handoff_service import model_registry as _model_registry  # noqa: E402, F401
from handoff_service import rate_counters as _rate_counters  # noqa: E402, F401
from handoff_service import trainer_inbox as _trainer_inbox  # noqa: E402, F401
