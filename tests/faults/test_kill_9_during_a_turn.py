"""kill -9 of the service at each point of a young person's turn (young_turn in
handoff_service/young_turn.py), on PostgreSQL, with no test hooks in the product:

- before the first commit: the test holds the conversation's row lock (SELECT ... FOR UPDATE
  from its own connection), so the turn's first transaction waits on its INSERT; SIGKILL;
- between the commits: the fake Rasa hangs; SIGKILL while the turn waits for it;
- during the second transaction: the fake Rasa answers, but the test has taken the row lock
  again first, so the transaction storing Rasa's line waits; SIGKILL.

After each, the service is started again. Checked via the API and the database: the message is
stored at most once, nothing half-written, every stored message answered within the recovery
interval (the crisis text with 112 and Giftlinjen), the crisis queued with risk critical, the
page's retry with the same Idempotency-Key returns the first turn and stores nothing new, and
the message text is in no log.
"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest

from tests.faults.support import (
    FAKE_ANSWER,
    RECOVERY_SECONDS,
    duplicates,
    half_written,
    kill_9,
    log_hits,
    restart,
    service_stack,
    unanswered,
    wait_for,
)

CRISIS = "jeg vil ikke leve mere, jeg har taget alle mine piller"
POINTS = ("before_first_commit", "between_commits", "during_second_transaction")


def _messages(database, conversation_id: str) -> list[tuple[str, str]]:
    return database.rows(
        "SELECT sender, text FROM messages WHERE conversation_id = %s ORDER BY id",
        conversation_id,
    )


@pytest.mark.parametrize("point", POINTS)
def test_kill_9_at_each_point_of_a_turn(point, tmp_path, fault_database, fake_rasa):
    database = fault_database
    text = f"{CRISIS} {uuid.uuid4().hex[:10]}"  # unique, so the log check finds only this run
    key = uuid.uuid4().hex
    stack = service_stack(tmp_path, database, fake_rasa.port)
    try:
        api = httpx.Client(base_url=stack.service_url, timeout=30)
        created = api.post("/api/v1/conversations")
        assert created.status_code == 201, created.text
        conversation_id = created.json()["id"]
        headers = {"Authorization": f"Bearer {created.json()['token']}"}
        retry = {**headers, "Idempotency-Key": key}
        url = f"/api/v1/conversations/{conversation_id}/messages"

        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(api.post(url, json={"text": text}, headers=retry))
            except httpx.HTTPError as error:
                outcome.append(error)

        sender = threading.Thread(target=send, daemon=True)
        if point == "before_first_commit":
            with database.row_lock(conversation_id):
                sender.start()
                wait_for(lambda: database.lock_waiters() > 0, 15, "the turn waits for the lock")
                kill_9(stack)
        elif point == "between_commits":
            fake_rasa.mode = "hang"
            sender.start()
            wait_for(lambda: fake_rasa.received(text), 15, "the turn asks Rasa")
            kill_9(stack)
            fake_rasa.mode = "answer"
        else:
            fake_rasa.gate_on = text
            sender.start()
            wait_for(fake_rasa.gated.is_set, 15, "the turn asks Rasa")
            with database.row_lock(conversation_id):
                fake_rasa.release.set()  # Rasa answers; storing its line waits for our lock
                wait_for(lambda: database.lock_waiters() > 0, 15, "the 2nd transaction waits")
                kill_9(stack)
            fake_rasa.gate_on = None
        sender.join(timeout=10)
        assert outcome and isinstance(outcome[0], httpx.HTTPError), outcome  # the page: error

        # What the crash left, committed.
        stored = [m for m in _messages(database, conversation_id) if m[0] == "young"]
        if point == "before_first_commit":
            assert stored == []  # the first transaction never committed: nothing, not half
        else:
            assert stored == [("young", text)]
            assert database.rows(
                "SELECT status, risk FROM conversations WHERE id = %s", conversation_id
            ) == [("queued", "critical")]
            assert _messages(database, conversation_id)[-1] == ("young", text)
        assert ("bot", FAKE_ANSWER) not in _messages(database, conversation_id)

        restarted = time.monotonic()
        restart(stack)
        wait_for(lambda: not unanswered(database), RECOVERY_SECONDS, "every message answered")
        answered_after = time.monotonic() - restarted

        first = api.post(url, json={"text": text}, headers=retry)
        assert first.status_code == 200, first.text
        turn = first.json()
        rows_before_second_retry = len(_messages(database, conversation_id))
        again = api.post(url, json={"text": text}, headers=retry)
        assert again.status_code == 200, again.text
        assert again.json()["messages"] == turn["messages"]
        assert len(_messages(database, conversation_id)) == rows_before_second_retry

        reply = " ".join(m["text"] for m in turn["messages"])
        if point == "before_first_commit":
            # Nothing was stored, so the retry is the first turn; the fake Rasa answers it.
            assert reply == FAKE_ANSWER
        else:
            # The recovery job's answer, returned as the first turn; Rasa's line never stored.
            assert "112" in reply and "Giftlinjen" in reply, reply
            assert FAKE_ANSWER not in reply
        assert turn["status"] == "queued" and turn["queue"]["position"] == 1

        shown = api.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
        assert [m["text"] for m in shown["messages"] if m["sender"] == "young"] == [text]
        assert database.rows(
            "SELECT status, risk FROM conversations WHERE id = %s", conversation_id
        ) == [("queued", "critical")]
        assert duplicates(database) == 0
        assert half_written(database, [text]) == []
        assert unanswered(database) == []
        api.close()
    finally:
        stack.stop_all()
    assert log_hits(tmp_path / "log", [text]) == []
    print(f"{point}: every stored message answered {answered_after:.1f} s after the restart")
