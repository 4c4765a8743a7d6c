"""Hard-deletes what is kept no longer than needed: run hourly inside the service, or by hand.

    python -m handoff_service.retention [--dry-run]

Closed conversations whose closed_at is older than RETENTION_DAYS go, with every message and
Rasa's tracker of the conversation (the places message text lives). So do conversations that
never left the bot and have been idle as long. Deleted means gone: rows are DELETEd, nothing is
flagged; the statistics are brought up to date first, so the counts (no text, no ids) stay as
they were. Audit events (ids and actions, never text) are kept AUDIT_RETENTION_DAYS. Waiting and
active conversations are never touched.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from handoff_service.config import Settings, get_settings
from handoff_service.db import make_engine, make_session_factory, utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.logging_privacy import configure_logging
from handoff_service.migrations import upgrade_database
from handoff_service.models import AuditEvent, Conversation, ConversationNote, Message
from handoff_service.rasa_trackers import purge_trackers
from handoff_service.statistics import record_many
from handoff_service.trainer_inbox import forget_conversations

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class PurgeResult:
    conversations: int
    messages: int
    audit_events: int


def expired_conversations(now: datetime, retention_days: int):
    cutoff = now - timedelta(days=retention_days)
    return or_(
        (Conversation.status == ConversationStatus.CLOSED) & (Conversation.closed_at < cutoff),
        (Conversation.status == ConversationStatus.BOT) & (Conversation.updated_at < cutoff),
    )


def purge_expired(
    session: Session, settings: Settings, now: datetime, *, dry_run: bool = False
) -> PurgeResult:
    """Delete expired conversations with their messages (committed batches) and old audit events."""
    expired = expired_conversations(now, settings.retention_days)
    audit_expired = AuditEvent.created_at < now - timedelta(days=settings.audit_retention_days)
    if dry_run:
        expired_ids = select(Conversation.id).where(expired)
        return PurgeResult(
            conversations=session.scalar(select(func.count()).where(expired)) or 0,
            messages=session.scalar(
                select(func.count()).where(Message.conversation_id.in_(expired_ids))
            )
            or 0,
            audit_events=session.scalar(select(func.count()).where(audit_expired)) or 0,
        )
    conversations = messages = 0
    while batch := list(
        session.scalars(select(Conversation).where(expired).limit(BATCH).with_for_update())
    ):
        ids = [conversation.id for conversation in batch]
        # The statistics first, in the same transaction: deleting never changes the counts
        # (handoff_service/statistics/, docs/statistics.md).
        record_many(session, batch)
        # Rasa's trackers hold the same text: gone before the conversation that names them
        # (handoff_service/rasa_trackers.py); a failure leaves the batch for the next run.
        purge_trackers(settings.rasa_tracker_url, ids)
        # Messages first and explicitly, so nothing depends on the database's cascade settings.
        messages += _rowcount(
            session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
        )
        # The counsellors' internal notes go with the conversation, the same way.
        session.execute(delete(ConversationNote).where(ConversationNote.conversation_id.in_(ids)))
        # The trainer's inbox forgets them too: an item goes with its last conversation unless a
        # trainer accepted it (then only its scrubbed text and label stay).
        forget_conversations(session, ids)
        conversations += _rowcount(
            session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        )
        session.commit()
    audit_events = _rowcount(session.execute(delete(AuditEvent).where(audit_expired)))
    session.commit()
    if conversations or audit_events:
        logger.info(
            "retention: deleted %d conversations, %d messages, %d audit events",
            conversations,
            messages,
            audit_events,
        )
    return PurgeResult(conversations, messages, audit_events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff_service.retention", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
    )
    args = parser.parse_args(argv)
    configure_logging()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with make_session_factory(engine)() as session:
        result = purge_expired(session, settings, utcnow(), dry_run=args.dry_run)
    engine.dispose()
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"retention ({settings.retention_days} days): {verb} {result.conversations} conversations, "
        f"{result.messages} messages, {result.audit_events} audit events"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _rowcount(result: Any) -> int:
    """Rows a DELETE removed (a CursorResult's rowcount; typed as a plain Result by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)
