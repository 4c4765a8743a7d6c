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
