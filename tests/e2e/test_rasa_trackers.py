"""Rasa's trackers live in SQL (bot/endpoints.yml): a Rasa restart keeps a conversation's
context, and retention deletes a conversation's tracker, message text included, with it."""

from __future__ import annotations

import pytest

from tests.utils.e2e import restore_stack, start

pytestmark = pytest.mark.e2e

TOPIC = "min far drikker hver aften og så bliver han sur"
FOLLOW_UP = "hvad kan jeg gøre"


def say(api, conversation, text: str) -> str:
    body, headers = conversation
    response = api.post(
        f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def test_a_rasa_restart_keeps_the_conversations_context(api, live_stack):
    restarted, unbroken, fresh = start(api), start(api), start(api)
    say(api, restarted, TOPIC)
    say(api, unbroken, TOPIC)
    with_context = say(api, unbroken, FOLLOW_UP)
    without_context = say(api, fresh, FOLLOW_UP)
    # The follow-up is answered from the topic the conversation is about, so it tells whether
    # Rasa still knows it.
    assert with_context != without_context

    live_stack.stop("rasa")
    restore_stack(live_stack)

    assert say(api, restarted, FOLLOW_UP) == with_context


def test_retention_deletes_the_conversations_tracker_with_its_text(api, live_stack):
    from datetime import timedelta

    from handoff_service.config import Settings
    from handoff_service.db import make_engine, make_session_factory, utcnow
    from handoff_service.rasa_trackers import tracker_events
    from handoff_service.retention import purge_expired

    conversation = start(api)
    body, headers = conversation
    words = "min mor drikker og jeg gemmer mig i kolonihavehuset"
    say(api, conversation, words)
    assert any(words in event for event in tracker_events(live_stack.tracker_url, body["id"]))

    settings = Settings(
        database_url=live_stack.database_url, rasa_tracker_url=live_stack.tracker_url
    )
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            later = utcnow() + timedelta(days=settings.retention_days + 1)
            assert purge_expired(session, settings, later).conversations >= 1
    finally:
        engine.dispose()

    assert tracker_events(live_stack.tracker_url, body["id"]) == []
    gone = api.get(f"/api/v1/conversations/{body['id']}", headers=headers)
    assert gone.status_code in (401, 404)
