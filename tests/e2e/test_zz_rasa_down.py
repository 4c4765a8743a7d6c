"""Runs last among the e2e tests (file order): Rasa is stopped, and nothing the young person
sent may be lost."""

from __future__ import annotations

import pytest

from tests.e2e.test_walking_skeleton import start

pytestmark = pytest.mark.e2e


def test_rasa_down_still_answers_in_danish_with_112_and_queues(api, live_stack):
    body, headers = start(api)
    live_stack.stop("rasa")
    try:
        check_fallback(api, body, headers)
    finally:
        # Later tests (the browser tests) share this system: bring Rasa back.
        live_stack.start_rasa()
        live_stack.wait_until_ready(timeout=300)


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
