"""Rasa's trackers go with their conversation: retention deletes them in the same run.

Rasa keeps each conversation's tracker (every event, message text included) in its SQL tracker
store (bot/endpoints.yml), keyed by ``sender_id`` = the conversation's id. Under PostgreSQL that
is the service's own database; under SQLite a file beside it (scripts/stack.py). Without this,
the text a young person wrote to the bot would outlive the conversation that retention deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    inspect,
    select,
)

logger = logging.getLogger(__name__)

#: Rasa's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), the columns used here.
EVENTS_TABLE = "events"
_events = Table(EVENTS_TABLE, MetaData(), Column("sender_id", String(255)), Column("data", Text))


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True)


def purge_trackers(url: str | None, conversation_ids: Sequence[str]) -> int:
    """Delete the trackers of these conversations; the number of events deleted.

    Nothing to do when no tracker store is configured or Rasa has not created its table yet.
    A failure propagates: the retention run is retried, and the conversation rows stay until
    their trackers are gone (the caller deletes trackers first).
    """
    if not url or not conversation_ids:
        return 0
    engine = _engine(url)
    with engine.begin() as connection:
        if not inspect(connection).has_table(EVENTS_TABLE):
            return 0
        result = connection.execute(
            delete(_events).where(_events.c.sender_id.in_(list(conversation_ids)))
        )
    return int(result.rowcount or 0)


def tracker_events(url: str, conversation_id: str) -> list[str]:
    """The raw event rows Rasa keeps for a conversation (for checks and tests)."""
    engine = _engine(url)
    with engine.connect() as connection:
        if not inspect(connection).has_table(EVENTS_TABLE):
            return []
        rows = connection.scalars(
            select(_events.c.data).where(_events.c.sender_id == conversation_id)
        )
        return [row or "" for row in rows]
