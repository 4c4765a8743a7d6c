"""A conversation's life: started with a token, messages added, closed by a counsellor.

The queue (order, places, claiming, handing off) is in handoff_service/queue.py, the triage
folding in handoff_service/triage.py, the audit trail in handoff_service/audit.py, and what the
pages are shown in handoff_service/views.py. The statistics (handoff_service/statistics/) are
recorded at creation and close here, at hand-off and reopening in queue.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation, Message, Organisation, User
from handoff_service.organisations import default_organisation
from handoff_service.security import hash_conversation_token, new_conversation_token
from handoff_service.statistics import record


def create_conversation(
    session: Session, organisation: Organisation | None = None
) -> tuple[Conversation, str]:
    """A new conversation with the bot and its bearer token (only the token's hash is kept),
    started on `organisation`'s page (None: the default organisation's, the plain / page)."""
    token = new_conversation_token()
    origin = organisation or default_organisation(session)
    conversation = Conversation(
        id=str(uuid.uuid4()),
        token_hash=hash_conversation_token(token),
        status=ConversationStatus.BOT.value,
        triage={},
        origin_organisation_id=origin.id,
        organisation_id=origin.id,
    )
    session.add(conversation)
    session.flush()
    record(session, conversation, fresh=True)  # the statistics (docs/statistics.md)
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


def close(
    session: Session, conversation: Conversation, user: User, outcome: str, now: datetime
) -> None:
    conversation.status = ConversationStatus.CLOSED.value
    conversation.outcome = outcome
    conversation.closed_at = now
    audit(session, user, conversation.id, "close")
    record(session, conversation)
