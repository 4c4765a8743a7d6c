"""Nobody is left hanging: the counsellor's own conversations, and claims nobody looks after.

A counsellor's tab can close, a browser crash, a login expire, or "Tag næste" be pressed with a
conversation open. The conversation then stays ``active`` with nobody on it. Two things help:

- *Mine samtaler* (:func:`my_conversations`): the counsellor's active conversations and those
  they left an answer in for later (closed ``answered_letterbox``, the young person not back yet),
  read from the database, so a reload or a new login finds them again. Never message text: the
  same fields as a queue row.
- The stale-claim job (:class:`StaleClaims`, run by handoff_service/scheduler.py): a claim whose
  young person waits for an answer (their last message is newer than the counsellor's last
  reply, or there is no reply yet) while the counsellor shows no sign of being there for
  ``STALE_CLAIM_MINUTES`` goes back to the queue at its original place (``queued_at`` is kept),
  audited as ``release_stale``. The counsellor is warned ``STALE_CLAIM_WARNING_MINUTES`` before;
  the young person is told in a bot line, the dashboards see a ``queue`` event, reason ``stale``.

Signs of the counsellor being there: the claim, opening or following the conversation and
replying (all in the audit trail), and the page's keep-alive ("Jeg er her stadig", sent while
the conversation is open and the tab visible, and with the typing signal), kept in
``conversations.counsellor_active_at``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff_service import queue as queue_ops
from handoff_service.config import Settings
from handoff_service.conversations import add_message
from handoff_service.domain.status import ConversationStatus
from handoff_service.events import EventBroker
from handoff_service.models import AuditEvent, Conversation, Message, User
from handoff_service.notify import (
    publish_counsellor_left,
    publish_messages,
    publish_queue_changed,
    publish_stale_warning,
)
from handoff_service.organisations import organisation_names
from handoff_service.schemas import OrganisationRef, Risk
from handoff_service.views import message_out, topic_label, triage_summary

logger = logging.getLogger(__name__)

#: What the audit trail records that shows the holding counsellor was there.
ACTIVITY_ACTIONS = ("claim", "open", "follow", "reply")
LETTERBOX = "answered_letterbox"
#: How many conversations left for later "Mine samtaler" shows (newest first).
LETTERBOX_SHOWN = 25


class MyConversationOut(BaseModel):
    """One line of "Mine samtaler": what a queue row shows, and whether the young person waits."""

    id: str
    status: str  # active | closed (closed = an answer left for later)
    risk: Risk
    risk_label: str
    topic: str | None
    topic_label: str
    summary: str
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    # True when the young person's last message is newer than the counsellor's last reply.
    young_waiting: bool
    waiting_since: datetime | None
    # The queue it came from and the page it started on (docs/organisations.md).
    queue: OrganisationRef | None = None
    origin: OrganisationRef | None = None


# -- the clock ---------------------------------------------------------------------------------


def _last_message_at(session: Session, conversation_id: str, sender: str) -> datetime | None:
    return session.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == conversation_id, Message.sender == sender
        )
    )


def waiting_since(session: Session, conversation: Conversation) -> datetime | None:
    """Since when the young person waits for the counsellor: their first message after the
    counsellor's last reply (any of theirs if no reply yet); None when they do not wait."""
    last_reply = _last_message_at(session, conversation.id, "counsellor")
    query = select(func.min(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.sender == "young"
    )
    if last_reply is not None:
        query = query.where(Message.created_at > last_reply)
    return session.scalar(query)


def last_activity(session: Session, conversation: Conversation) -> datetime | None:
    """The holding counsellor's newest sign of being there (see the module's docstring)."""
    if conversation.counsellor_id is None:
        return None
    audited = session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            AuditEvent.conversation_id == conversation.id,
            AuditEvent.user_id == conversation.counsellor_id,
            AuditEvent.action.in_(ACTIVITY_ACTIONS),
        )
    )
    signs = [
        conversation.claimed_at,
        conversation.counsellor_active_at,
        audited,
        _last_message_at(session, conversation.id, "counsellor"),
    ]
    present = [sign for sign in signs if sign is not None]
    return max(present) if present else None


def keep_alive(session: Session, conversation: Conversation, now: datetime) -> None:
    """The counsellor holding `conversation` is there ("Jeg er her stadig"): the clock restarts."""
    conversation.counsellor_active_at = now
    session.flush()


# -- Mine samtaler -----------------------------------------------------------------------------


def my_conversations(
    session: Session, user: User, texts: dict[str, Any]
) -> list[MyConversationOut]:
    """The caller's active conversations (the young person waiting first), then those they left
    an answer in for later and the young person has not come back to (newest first)."""
    active = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.status == ConversationStatus.ACTIVE,
                Conversation.counsellor_id == user.id,
            )
            .order_by(Conversation.claimed_at, Conversation.id)
        )
    )
    letterbox = list(
        session.scalars(
            select(Conversation)
            .where(
                Conversation.status == ConversationStatus.CLOSED,
                Conversation.outcome == LETTERBOX,
                Conversation.counsellor_id == user.id,
            )
            .order_by(Conversation.closed_at.desc(), Conversation.id)
            .limit(LETTERBOX_SHOWN)
        )
    )
    names = organisation_names(session)
    rows = [_my_row(session, conversation, texts, names) for conversation in active]
    rows.sort(key=lambda row: (not row.young_waiting, row.waiting_since or datetime.max))
    return rows + [_my_row(session, conversation, texts, names) for conversation in letterbox]


def _my_row(
    session: Session,
    conversation: Conversation,
    texts: dict[str, Any],
    names: dict[int, OrganisationRef],
) -> MyConversationOut:
    since = (
        waiting_since(session, conversation)
        if conversation.status == ConversationStatus.ACTIVE
        else None
    )
    return MyConversationOut(
        id=conversation.id,
        status=conversation.status,
        risk=conversation.risk,
        risk_label=texts["risk_labels"][conversation.risk],
        topic=conversation.topic,
        topic_label=topic_label(conversation.topic, texts),
        summary=triage_summary(conversation, texts),
        claimed_at=conversation.claimed_at,
        closed_at=conversation.closed_at,
        outcome=conversation.outcome,
        young_waiting=since is not None,
        waiting_since=since,
        queue=names.get(conversation.organisation_id or -1),
        origin=names.get(conversation.origin_organisation_id or -1),
    )


# -- the job -----------------------------------------------------------------------------------


@dataclass
class StaleCheck:
    """What one run did: conversations warned about and released (ids)."""

    warned: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


class StaleClaims:
    """Warns, then releases, claims whose young person waits with nobody there.

    It remembers which idle spell it warned about (in memory, like the shift watcher), so a
    counsellor is warned once per spell; after a restart at most one more warning comes.
    """

    def __init__(self) -> None:
        self._warned: dict[str, datetime] = {}

    def check(
        self,
        session: Session,
        settings: Settings,
        broker: EventBroker,
        texts: dict[str, Any],
        now: datetime,
    ) -> StaleCheck:
        result = StaleCheck()
        limit = timedelta(minutes=settings.stale_claim_minutes)
        warn_after = limit - timedelta(minutes=settings.stale_claim_warning_minutes)
        held = list(
            session.scalars(
                select(Conversation).where(
                    Conversation.status == ConversationStatus.ACTIVE,
                    Conversation.counsellor_id.is_not(None),
                )
            )
        )
        still_held = set()
        for conversation in held:
            since = waiting_since(session, conversation)
            if since is None:
                continue  # the young person is not waiting: nobody is left hanging
            activity = last_activity(session, conversation)
            # The clock runs from the later of: the counsellor's last sign, the young person
            # starting to wait. Writing again does not restart it.
            started = max(sign for sign in (activity, since) if sign is not None)
            idle = now - started
            if idle >= limit:
                self._release(session, settings, broker, texts, conversation, now)
                result.released.append(conversation.id)
                continue
            still_held.add(conversation.id)
            if idle >= warn_after and self._warned.get(conversation.id) != started:
                self._warned[conversation.id] = started
                counsellor_id = conversation.counsellor_id
                assert counsellor_id is not None  # noqa: S101 - selected above
                publish_stale_warning(
                    broker,
                    conversation.id,
                    counsellor_id,
                    release_at=started + limit,
                    seconds_left=max(0, int((limit - idle).total_seconds())),
                )
                result.warned.append(conversation.id)
        self._warned = {key: value for key, value in self._warned.items() if key in still_held}
        return result

    def _release(
        self,
        session: Session,
        settings: Settings,
        broker: EventBroker,
        texts: dict[str, Any],
        conversation: Conversation,
        now: datetime,
    ) -> None:
        counsellor_id = conversation.counsellor_id
        queue_ops.release(
            session, conversation, None, action="release_stale", subject_user_id=counsellor_id
        )
        notice = texts["stale_release_notice"]
        message = message_out(add_message(session, conversation, "bot", notice))
        session.commit()
        logger.info("release_stale")
        publish_messages(broker, conversation.id, [message])
        publish_counsellor_left(broker, conversation.id, notice)
        publish_queue_changed(
            broker, session, settings, now, reason="stale", conversation=conversation
        )
