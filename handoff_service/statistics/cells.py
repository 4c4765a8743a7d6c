"""Recording: a conversation's current cells, diffed against what it added before, applied.

:func:`record` is idempotent: call it after any change that matters (creation, hand-off, close,
reopen, feedback, registration, and just before retention deletes the conversation) in the same
transaction. The conversation row is locked first (SELECT ... FOR UPDATE on PostgreSQL; on
SQLite a no-op UPDATE takes the database's write lock), so two concurrent records of the same
conversation apply their differences one after the other and never double count. The counts are
changed by one INSERT ... ON CONFLICT DO UPDATE, atomic on both databases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from handoff_service.domain.shifts import shift_windows
from handoff_service.models import Conversation, Message, Organisation, StatCell, StatServiceHour
from handoff_service.shift_calendar import date_exceptions, weekly_rules
from handoff_service.statistics.codes import LOCAL_TZ, ORGANISATION
from handoff_service.statistics.facts import CellKey, ConversationFacts, cell_keys, iso_week

_CELL_KEY = ("organisation", "period_week", "hour_of_day", "metric", "category")


def _insert(session: Session):
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


_UPSERTS: dict[str, Any] = {}


def _upsert(session: Session) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE SET count = count + excluded.count, built once per
    dialect and run with one parameter set per cell (a cached statement, not a new one)."""
    name = session.get_bind().dialect.name
    if name not in _UPSERTS:
        table = StatCell.__table__
        statement = _insert(session)(table)
        _UPSERTS[name] = statement.on_conflict_do_update(
            index_elements=list(_CELL_KEY),
            set_={"count": table.c.count + statement.excluded.count},
        )
    return _UPSERTS[name]


def _lock(session: Session, ids: list[str]) -> None:
    """Lock the rows and reload them, so the stored contribution is the latest committed one."""
    if session.get_bind().dialect.name == "sqlite":
        # No row locks on SQLite: an UPDATE takes the write lock, which serialises writers.
        session.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(
                stats_contribution=Conversation.stats_contribution,
                updated_at=Conversation.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
    session.execute(
        select(Conversation)
        .where(Conversation.id.in_(ids))
        .order_by(Conversation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _first_counsellor_messages(
    session: Session, conversations: Sequence[Conversation]
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Per conversation: the first counsellor message, and the first since it was last queued."""
    ids = [c.id for c in conversations if c.queued_at is not None]
    if not ids:
        return {}
    since_queued = case(
        (Message.created_at >= Conversation.queued_at, Message.created_at), else_=None
    )
    rows = session.execute(
        select(Message.conversation_id, func.min(Message.created_at), func.min(since_queued))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id.in_(ids), Message.sender == "counsellor")
        .group_by(Message.conversation_id)
    ).all()
    return {conversation_id: (first, since) for conversation_id, first, since in rows}


def _facts(
    conversation: Conversation, replies: tuple[datetime | None, datetime | None]
) -> ConversationFacts:
    first, since = replies
    return ConversationFacts(
        created_at=conversation.created_at,
        status=conversation.status,
        risk=conversation.risk,
        topic=conversation.topic,
        outcome=conversation.outcome,
        queued_at=conversation.queued_at,
        closed_at=conversation.closed_at,
        letterbox_picked_up=bool(conversation.letterbox_picked_up),
        feedback=conversation.feedback,
        registration=conversation.registration,
        first_counsellor_message=first,
        first_reply_since_queued=since,
    )


def _stored(conversation: Conversation) -> set[CellKey]:
    stored: set[CellKey] = set()
    for item in conversation.stats_contribution or ():
        organisation, week, hour, metric, category = item
        stored.add((str(organisation), str(week), int(hour), str(metric), str(category)))
    return stored


def apply_deltas(session: Session, deltas: Counter[CellKey]) -> None:
    """Add each delta to its cell (created at 0 if new), in one atomic statement."""
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not changes:
        return
    # Sorted, so concurrent transactions lock the cells in the same order (no deadlock).
    session.execute(
        _upsert(session),
        [{**dict(zip(_CELL_KEY, key, strict=True)), "count": delta} for key, delta in changes],
    )


def record_many(
    session: Session, conversations: Sequence[Conversation], *, fresh: bool = False
) -> None:
    """Bring the conversations' contributions to the counts up to date (see the module doc).

    `fresh`: the conversations were inserted in this transaction, so no other transaction can
    see them and the lock is skipped (conversation creation, on the young person's first call)."""
    if not conversations:
        return
    session.flush()
    if not fresh:
        _lock(session, sorted({c.id for c in conversations}))
    replies = _first_counsellor_messages(session, conversations)
    # Counted for the organisation whose page the conversation started on.
    slugs = dict(session.execute(select(Organisation.id, Organisation.slug)).all())
    deltas: Counter[CellKey] = Counter()
    for conversation in conversations:
        now = cell_keys(
            _facts(conversation, replies.get(conversation.id, (None, None))),
            slugs.get(conversation.origin_organisation_id or -1, ORGANISATION),
        )
        before = _stored(conversation)
        if now == before:
            continue
        for key in now - before:
            deltas[key] += 1
        for key in before - now:
            deltas[key] -= 1
        conversation.stats_contribution = [list(key) for key in sorted(now)]
    apply_deltas(session, deltas)
    session.flush()


def record(session: Session, conversation: Conversation, *, fresh: bool = False) -> None:
    record_many(session, [conversation], fresh=fresh)


# -- service hours ---------------------------------------------------------------------------

#: How far back the job looks for hours it has not marked (a service down for a while).
SERVICE_HOURS_LOOKBACK = timedelta(hours=24)


def _hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def staffed_hours(
    session: Session, now: datetime, lookback: timedelta, organisation_id: int
) -> list[datetime]:
    """The UTC hour starts from `now - lookback` to now in which the calendar had at least one
    counsellor on shift (the current hour counts once a shift has been open in it)."""
    first = _hour_start(now - lookback)
    from_day = first.astimezone(LOCAL_TZ).date() - timedelta(days=1)
    days = (now.astimezone(LOCAL_TZ).date() - from_day).days + 1
    windows = [
        w
        for w in shift_windows(
            weekly_rules(session, organisation_id),
            date_exceptions(session, from_day, organisation_id),
            from_day=from_day,
            days=days,
            tz=LOCAL_TZ,
        )
        if w.counsellors >= 1
    ]
    hours = []
    hour = first
    while hour <= now:
        end = min(hour + timedelta(hours=1), now)
        if any(w.starts_at < end and w.ends_at > hour for w in windows):
            hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def record_service_hours(
    session: Session, now: datetime, *, lookback: timedelta = SERVICE_HOURS_LOOKBACK
) -> int:
    """Every organisation's staffed hours (its own calendar); returns hours added in all."""
    return sum(
        _record_service_hours(session, now, lookback, organisation_id, slug)
        for organisation_id, slug in session.execute(
            select(Organisation.id, Organisation.slug).order_by(Organisation.id)
        )
    )


def _record_service_hours(
    session: Session, now: datetime, lookback: timedelta, organisation_id: int, organisation: str
) -> int:
    """Mark each staffed hour once (a unique row per hour) and count it; returns hours added.

    The marker and the count are in one transaction and the marker's insert skips an hour that
    another process marked, so restarts and several processes never count an hour twice."""
    hours = staffed_hours(session, now, lookback, organisation_id)
    if not hours:
        return 0
    known = set(
        session.scalars(
            select(StatServiceHour.hour_start).where(
                StatServiceHour.organisation == organisation,
                StatServiceHour.hour_start >= hours[0],
            )
        )
    )
    missing = [hour for hour in hours if hour not in known]
    if not missing:
        return 0
    insert = _insert(session)
    added = list(
        session.scalars(
            insert(StatServiceHour.__table__)
            .values([{"organisation": organisation, "hour_start": hour} for hour in missing])
            .on_conflict_do_nothing(index_elements=["organisation", "hour_start"])
            .returning(StatServiceHour.__table__.c.hour_start)
        )
    )
    deltas: Counter[CellKey] = Counter()
    for hour in added:
        week, local_hour = iso_week(hour)
        deltas[(organisation, week, local_hour, "service_hours", "all")] += 1
    apply_deltas(session, deltas)
    session.commit()
    return len(added)
