"""Migration 0012 (issue #16): today's single setup becomes the organisation 'default', and nothing
is lost on the way - on SQLite a table copy would cascade-delete messages, notes and tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from alembic import command
from sqlalchemy import MetaData, func, inspect, select
from sqlalchemy.orm import Session

from handoff_service import organisations as orgs
from handoff_service import queue as queue_ops
from handoff_service.db import make_engine
from handoff_service.migrations import alembic_config
from handoff_service.models import (
    AuditEvent,
    Conversation,
    ConversationNote,
    Message,
    Organisation,
    RefreshToken,
    ShiftException,
    User,
    WeeklyShift,
)

BEFORE = datetime(2026, 12, 1, 12, 0)  # naive UTC, as the columns store it


def fill_revision_0011(engine) -> dict[str, object]:
    """Rows as the service at revision 0011 wrote them: two staff, a waiting and an active
    conversation with messages, a note, a login, an audit row, a weekly shift and a closed date."""
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    held, waiting = str(uuid.uuid4()), str(uuid.uuid4())
    with engine.begin() as connection:
        users = [
            {"id": 1, "username": "raadgiver", "role": "counsellor"},
            {"id": 2, "username": "chef", "role": "admin"},
        ]
        connection.execute(
            t["users"].insert(),
            [
                {
                    **user,
                    "password_hash": "-",
                    "is_active": True,
                    "token_version": 0,
                    "failed_logins": 0,
                    "created_at": BEFORE,
                }
                for user in users
            ],
        )
        conversation = {
            "token_hash": "0" * 64,
            "risk": "normal",
            "risk_rank": 0,
            "triage": {},
            "created_at": BEFORE,
            "updated_at": BEFORE,
        }
        connection.execute(
            t["conversations"].insert(),
            [
                {
                    **conversation,
                    "id": held,
                    "status": "active",
                    "counsellor_id": 1,
                    "queued_at": BEFORE,
                    "claimed_at": BEFORE + timedelta(minutes=2),
                },
                {
                    **conversation,
                    "id": waiting,
                    "token_hash": "1" * 64,
                    "status": "queued",
                    "risk": "high",
                    "risk_rank": 1,
                    "counsellor_id": None,
                    "queued_at": BEFORE + timedelta(minutes=1),
                    "claimed_at": None,
                },
            ],
        )
        connection.execute(
            t["messages"].insert(),
            [
                {"conversation_id": held, "sender": "young", "text": "hej", "created_at": BEFORE},
                {
                    "conversation_id": held,
                    "sender": "counsellor",
                    "text": "hej",
                    "created_at": BEFORE,
                },
                {"conversation_id": waiting, "sender": "young", "text": "?", "created_at": BEFORE},
            ],
        )
        connection.execute(
            t["conversation_notes"].insert(),
            {"conversation_id": held, "user_id": 1, "text": "note", "created_at": BEFORE},
        )
        connection.execute(
            t["audit_events"].insert(),
            {"action": "claim", "user_id": 1, "conversation_id": held, "created_at": BEFORE},
        )
        connection.execute(
            t["refresh_tokens"].insert(),
            {
                "token_hash": "2" * 64,
                "user_id": 1,
                "family_id": "familie",
                "created_at": BEFORE,
                "expires_at": BEFORE + timedelta(days=1),
                "family_expires_at": BEFORE + timedelta(days=7),
            },
        )
        connection.execute(
            t["weekly_shifts"].insert(),
            {"weekday": 0, "starts_at": time(17), "ends_at": time(21), "counsellors": 2},
        )
        connection.execute(
            t["shift_exceptions"].insert(),
            {"on_date": datetime(2026, 12, 24).date(), "kind": "closed", "counsellors": 1},
        )
    return {"held": held, "waiting": waiting}


def test_migration_0012_keeps_every_row_and_puts_it_in_the_default_organisation(database_url):
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0011")
    ids = fill_revision_0011(engine)
    command.upgrade(config, "head")

    with Session(engine) as session:
        default = session.scalar(select(Organisation))
        assert (default.slug, default.is_default) == ("default", True)
        assert session.scalar(select(func.count()).select_from(Organisation)) == 1
        assert orgs.default_organisation(session).id == default.id

        staff = {u.username: u for u in session.scalars(select(User))}
        assert staff["raadgiver"].organisation_id == default.id
        assert staff["chef"].organisation_id is None, "an admin stays platform-wide"
        assert orgs.queue_ids_for(session, staff["raadgiver"]) == {default.id}
        assert orgs.queue_ids_for(session, staff["chef"]) is None

        held = session.get(Conversation, ids["held"])
        waiting = session.get(Conversation, ids["waiting"])
        for conversation in (held, waiting):
            assert conversation.organisation_id == default.id
            assert conversation.origin_organisation_id == default.id
        assert (held.status, held.counsellor_id) == ("active", staff["raadgiver"].id)
        assert waiting.status == "queued" and waiting.risk == "high"

        # Nothing cascaded away: messages, notes, logins and the audit trail are all there.
        assert [m.text for m in held.messages] == ["hej", "hej"]
        assert session.scalar(select(func.count()).select_from(Message)) == 3
        assert session.scalar(select(func.count()).select_from(ConversationNote)) == 1
        assert session.scalar(select(RefreshToken.user_id)) == staff["raadgiver"].id
        assert session.scalar(select(AuditEvent.user_id)) == staff["raadgiver"].id

        shift = session.scalar(select(WeeklyShift))
        assert (shift.organisation_id, shift.starts_at, shift.counsellors) == (
            default.id,
            time(17),
            2,
        )
        assert session.scalar(select(ShiftException.organisation_id)) == default.id

        # The queue works on the migrated data, and a new organisation gets a fresh id.
        assert queue_ops.waiting_conversations(session, {default.id}) == [waiting]
        monday_evening = datetime(2026, 12, 7, 17, 30, tzinfo=UTC)  # 18.30 in Copenhagen
        assert orgs.route(session, default, "normal", monday_evening).reason == orgs.OWN_OPEN
        session.add(Organisation(slug="nyby", name="Nyby Kommune"))
        session.commit()
        assert session.scalar(select(Organisation.id).where(Organisation.slug == "nyby")) != (
            default.id
        )

    indexes = {index["name"]: index for index in inspect(engine).get_indexes("conversations")}
    assert indexes["ix_conversations_queue"]["column_names"] == [
        "status",
        "risk_rank",
        "queued_at",
        "id",
    ]
    assert indexes["ix_conversations_queue_by_organisation"]["column_names"][:2] == [
        "organisation_id",
        "status",
    ]
    foreign_keys = inspect(engine).get_foreign_keys("messages")
    assert [(fk["referred_table"], fk["options"].get("ondelete")) for fk in foreign_keys] == [
        ("conversations", "CASCADE")
    ], "the messages still belong to their conversation"
    engine.dispose()
