"""Retention: closed conversations are hard-deleted after RETENTION_DAYS (job and command)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from handoff_service import conversations as ops
from handoff_service.audit import audit
from handoff_service.db import utcnow
from handoff_service.main import create_app
from handoff_service.models import AuditEvent, Conversation, Message, User
from handoff_service.retention import main as retention_command
from handoff_service.retention import purge_expired
from tests.utils.factories import make_closed_conversation, make_queued_conversation


def closed_conversation(session, closed_days_ago: float) -> Conversation:
    counsellor = session.scalar(select(User).where(User.username == "demo"))
    return make_closed_conversation(
        session, counsellor, closed_at=utcnow() - timedelta(days=closed_days_ago)
    )


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_closed_conversations_older_than_retention_are_gone_with_their_messages(session, settings):
    old = closed_conversation(session, closed_days_ago=31)
    recent = closed_conversation(session, closed_days_ago=29)
    waiting = make_queued_conversation(session)
    waiting.queued_at = utcnow() - timedelta(days=90)  # someone waiting is never deleted
    session.commit()
    result = purge_expired(session, settings, utcnow())
    assert (result.conversations, result.messages) == (1, 1)
    session.expire_all()
    assert session.get(Conversation, old.id) is None
    assert session.scalar(select(func.count()).where(Message.conversation_id == old.id)) == 0
    assert (
        session.get(Conversation, recent.id) is not None
        and session.get(Conversation, waiting.id) is not None
    )
    # Deleted means gone: no row, no flag, no text anywhere in the database.
    dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM messages")).all())
    assert dump.count("det her er hemmeligt") == 1


def test_idle_bot_only_conversations_are_deleted_too(session, settings):
    conversation, _token = ops.create_conversation(session)
    ops.add_message(session, conversation, "young", "hej")
    session.commit()
    conversation.updated_at = utcnow() - timedelta(days=settings.retention_days + 1)
    session.commit()
    assert purge_expired(session, settings, utcnow()).conversations == 1


def test_the_token_of_a_deleted_conversation_opens_nothing(
    client: TestClient, session, counsellor_headers
):
    response = client.post("/api/v1/conversations").json()
    headers = {"Authorization": f"Bearer {response['token']}"}
    client.post(f"/api/v1/conversations/{response['id']}/handoff", headers=headers)
    client.post("/api/v1/queue/claim", headers=counsellor_headers)
    client.post(
        f"/api/v1/conversations/{response['id']}/close", json={}, headers=counsellor_headers
    )
    settings = client.app.state.settings
    purge_expired(session, settings, utcnow() + timedelta(days=settings.retention_days, minutes=1))
    assert client.get(f"/api/v1/conversations/{response['id']}", headers=headers).status_code == 404


def test_audit_events_have_their_own_longer_retention(session, settings):
    audit(session, None, None, "old")
    session.commit()
    session.execute(AuditEvent.__table__.update().values(created_at=utcnow() - timedelta(days=400)))
    audit(session, None, None, "new")
    session.commit()
    assert purge_expired(session, settings, utcnow()).audit_events == 1
    assert [e.action for e in session.scalars(select(AuditEvent))] == ["new"]


def test_command_deletes_and_dry_run_only_counts(session, settings, monkeypatch, capsys):
    closed_conversation(session, closed_days_ago=45)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    from handoff_service.config import get_settings

    get_settings.cache_clear()
    try:
        assert retention_command(["--dry-run"]) == 0
        assert "would delete 1 conversations, 1 messages" in capsys.readouterr().out
        assert count(session, Conversation) == 1
        assert retention_command([]) == 0
        assert "deleted 1 conversations" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    session.expire_all()
    assert count(session, Conversation) == 0


def test_the_service_runs_the_purge_by_itself(settings):
    app = create_app(
        settings.model_copy(update={"background_jobs": True, "retention_interval_minutes": 0.01})
    )
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            old = closed_conversation(session, closed_days_ago=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with app.state.session_factory() as session:
                if session.get(Conversation, old.id) is None:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("the background job did not delete the expired conversation")
        assert client.get("/healthz").status_code == 200
