"""kill -9 of the service while it waits for Rasa: the crisis is already queued, the next process
answers it, and the page's retry with the same id stores nothing twice.

Only the service runs (Rasa is a TCP server on 127.0.0.1 that accepts and never answers), so
this needs no model and takes about half a minute.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.utils.e2e import free_port, stack_module
from tests.utils.hung_server import hung_server

pytestmark = pytest.mark.e2e

CRISIS = "jeg vil ikke leve mere, jeg har taget alle mine piller"


@pytest.fixture
def hung_rasa_port() -> Iterator[int]:
    with hung_server(backlog=64) as port:
        yield port


def rows(database: str, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(database, timeout=10) as connection:
        return connection.execute(sql, args).fetchall()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def test_kill_9_while_waiting_for_rasa_leaves_nobody_unanswered(tmp_path, hung_rasa_port):
    database = str(tmp_path / "handoff.db")
    stack = stack_module.Stack(
        service_port=free_port(),
        rasa_port=hung_rasa_port,
        actions_port=free_port(),
        database_url=f"sqlite:///{database}",
        log_dir=tmp_path / "log",
        service_env={
            "ENVIRONMENT": "test",
            "SECRET_KEY_PATH": str(tmp_path / "secret_key"),
            "DEMO_COUNSELLOR_PASSWORD": "crash-test-password",
            "RASA_TIMEOUT_SECONDS": "3",
            "RASA_QUICK_TIMEOUT_SECONDS": "3",  # the kill lands while the turn waits
            "RASA_BREAKER_FAILURES": "100",  # every call waits for the hung Rasa
            "UNANSWERED_AFTER_SECONDS": "1",
            "UNANSWERED_CHECK_SECONDS": "1",
        },
    )
    stack.start_service()
    try:
        stack.wait_until_ready(timeout=60)
        api = httpx.Client(base_url=stack.service_url, timeout=30)
        created = api.post("/api/v1/conversations").json()  # the greeting waits one timeout
        conversation_id = created["id"]
        headers = {"Authorization": f"Bearer {created['token']}"}
        retry = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        url = f"/api/v1/conversations/{conversation_id}/messages"

        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(api.post(url, json={"text": CRISIS}, headers=retry))
            except httpx.HTTPError as error:
                outcome.append(error)

        sender = threading.Thread(target=send)
        sender.start()
        # The service is waiting for Rasa once the message is in the database: kill -9 now.
        wait_for(
            lambda: rows(database, "SELECT id FROM messages WHERE sender = 'young'"),
            10,
            "the message is stored",
        )
        os.killpg(stack.processes["service"].pid, signal.SIGKILL)
        sender.join(timeout=10)
        assert outcome and isinstance(outcome[0], httpx.HTTPError)  # the page saw an error

        # What the crash left: the crisis is stored, critical and queued, with no answer yet.
        assert rows(
            database, "SELECT status, risk FROM conversations WHERE id = ?", conversation_id
        ) == [("queued", "critical")]
        assert rows(
            database,
            "SELECT sender FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1",
            conversation_id,
        ) == [("young",)]

        stack.processes.pop("service")
        stack.start_service()
        stack.wait_until_ready(timeout=60)
        # The new process's recovery job answers it (after Rasa's timeout and a margin).
        answers = wait_for(
            lambda: rows(
                database,
                "SELECT text FROM messages WHERE conversation_id = ? AND sender = 'bot' "
                "AND id > (SELECT max(id) FROM messages WHERE sender = 'young' "
                "AND conversation_id = ?) ORDER BY id",
                conversation_id,
                conversation_id,
            ),
            40,
            "the recovery job answers",
        )
        text = " ".join(answer for (answer,) in answers)
        assert "112" in text and "Giftlinjen" in text

        # The page sends again with the same id: the first turn, and nothing stored twice.
        again = api.post(url, json={"text": CRISIS}, headers=retry)
        assert again.status_code == 200, again.text
        assert [m["text"] for m in again.json()["messages"]] == [a for (a,) in answers]
        assert again.json()["status"] == "queued"
        assert rows(
            database,
            "SELECT count(*) FROM messages WHERE conversation_id = ? AND sender = 'young'",
            conversation_id,
        ) == [(1,)]
        api.close()
    finally:
        stack.stop_all()
    for log in (tmp_path / "log").glob("*.log"):
        assert "leve mere" not in log.read_text(errors="replace"), log.name
