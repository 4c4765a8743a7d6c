"""Rasa killed mid-request, failing or hung, against the real service process on PostgreSQL.

What the other tests already cover: Rasa stopped (tests/e2e/test_rasa_down.py, real Rasa), Rasa
hung in-process with the breaker (tests/handoff_service/test_rasa_breaker.py) and a kill -9 of
the service while Rasa hangs (tests/e2e/test_crash_recovery.py, SQLite). Missing until now: a
Rasa that dies while it holds the service's request (the connection closes with no answer, as
when Rasa is killed mid-turn) or answers 500, and all three against the real process on
PostgreSQL. Each time the young person must get a Danish answer with 112 and a queue place at
once (within Rasa's timeout), the crisis text for a crisis, and the message stored once.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.faults.support import (
    duplicates,
    half_written,
    log_hits,
    service_stack,
    unanswered,
)

CRISIS = "jeg vil ikke leve mere"
ORDINARY = "min mor er fuld igen"
RASA_TIMEOUT = 3.0


@pytest.mark.parametrize("mode", ["die", "error", "hang"])
def test_rasa_dying_failing_or_hung_still_answers_with_112_and_queues(
    mode, tmp_path, fault_database, fake_rasa
):
    marker = uuid.uuid4().hex[:10]
    crisis, ordinary = f"{CRISIS} {marker}", f"{ORDINARY} {marker}"
    stack = service_stack(tmp_path, fault_database, fake_rasa.port)
    try:
        with httpx.Client(base_url=stack.service_url, timeout=30) as api:
            conversations = []
            for _ in range(2):  # the greeting while Rasa is still well
                created = api.post("/api/v1/conversations")
                assert created.status_code == 201, created.text
                body = created.json()
                conversations.append((body["id"], {"Authorization": f"Bearer {body['token']}"}))
            fake_rasa.mode = mode
            turns = {}
            for (conversation_id, headers), text in zip(
                conversations, (crisis, ordinary), strict=True
            ):
                started = time.monotonic()
                response = api.post(
                    f"/api/v1/conversations/{conversation_id}/messages",
                    json={"text": text},
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                elapsed = time.monotonic() - started
                assert response.status_code == 200, response.text
                assert fake_rasa.received(text)  # Rasa was asked, and failed
                assert elapsed < RASA_TIMEOUT + 2, f"{mode}: the answer took {elapsed:.1f} s"
                turns[text] = response.json()
                print(f"{mode}: answered in {elapsed:.2f} s")

        crisis_reply = " ".join(m["text"] for m in turns[crisis]["messages"])
        assert "112" in crisis_reply and "Giftlinjen" in crisis_reply, crisis_reply
        ordinary_reply = " ".join(m["text"] for m in turns[ordinary]["messages"])
        assert "112" in ordinary_reply and "rådgiver" in ordinary_reply, ordinary_reply
        # The crisis first in the queue, the other behind it.
        assert [turns[t]["status"] for t in (crisis, ordinary)] == ["queued", "queued"]
        assert [turns[t]["queue"]["position"] for t in (crisis, ordinary)] == [1, 2]
        assert fault_database.rows(
            "SELECT risk, status FROM conversations WHERE id = %s", conversations[0][0]
        ) == [("critical", "queued")]
        assert duplicates(fault_database) == 0
        assert half_written(fault_database, [crisis]) == []
        assert unanswered(fault_database) == []
        assert fault_database.value("SELECT count(*) FROM messages WHERE sender = 'young'") == 2
    finally:
        stack.stop_all()
    assert log_hits(tmp_path / "log", [crisis, ordinary]) == []
