"""Rasa is stopped mid-conversation, and nothing the young person sent may be lost.

Rasa is started again and waited for after the test (the `live_stack_whole` fixture in
tests/conftest.py), so the tests that share the system do not depend on running before this one.
"""

from __future__ import annotations

import pytest

from tests.utils.e2e import start

pytestmark = pytest.mark.e2e


def test_rasa_down_still_answers_in_danish_with_112_and_queues(api, live_stack):
    body, headers = start(api)
    live_stack.stop("rasa")
    check_fallback(api, body, headers)


def check_fallback(api, body, headers):
    response = api.post(
        f"/api/v1/conversations/{body['id']}/messages",
        json={"text": "min mor er fuld igen"},
        headers=headers,
    )
    assert response.status_code == 200
    turn = response.json()
    reply = " ".join(m["text"] for m in turn["messages"])
    assert "112" in reply and "rådgiver" in reply
    assert turn["status"] == "queued"
    stored = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
    assert ("young", "min mor er fuld igen") in [
        (m["sender"], m["text"]) for m in stored["messages"]
    ]
