"""Builders for test data that go through the same code paths as the product."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from handoff_service import conversations as ops
from handoff_service import queue as queue_ops
from handoff_service.db import utcnow
from handoff_service.models import Conversation, User
from handoff_service.schemas import Triage
from handoff_service.security import hash_password


def make_user(
    session: Session,
    username: str = "radgiver",
    role: str = "counsellor",
    password: str = "hemmeligt-kodeord",  # noqa: S107 - test data
) -> User:
    user = User(username=username, role=role, password_hash=hash_password(password))
    session.add(user)
    session.commit()
    return user


def make_queued_conversation(
    session: Session,
    *,
    risk: str = "normal",
    queued_at: datetime | None = None,
    topic: str | None = None,
) -> Conversation:
    conversation, _token = ops.create_conversation(session)
    intents = {"critical": ["suicidal"], "high": ["violence"]}.get(risk, [topic] if topic else [])
    queue_ops.hand_off(
        session,
        conversation,
        Triage(risk=risk, topic=topic, intents=intents),
        queued_at or utcnow(),
    )
    session.commit()
    return conversation


def make_closed_conversation(
    session: Session,
    counsellor: User,
    *,
    closed_at: datetime,
    handling_minutes: float = 20,
    text: str = "det her er hemmeligt",
) -> Conversation:
    """A conversation a counsellor claimed, answered and closed at `closed_at`."""
    claimed_at = closed_at - timedelta(minutes=handling_minutes)
    conversation = make_queued_conversation(session, queued_at=claimed_at - timedelta(minutes=5))
    ops.add_message(session, conversation, "young", text)
    conversation.status, conversation.counsellor_id, conversation.claimed_at = (
        "active",
        counsellor.id,
        claimed_at,
    )
    ops.close(session, conversation, counsellor, "talked", closed_at)
    session.commit()
    return conversation


def minutes_ago(minutes: float) -> datetime:
    return utcnow() - timedelta(minutes=minutes)
