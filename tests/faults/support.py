"""What the fault tests share: the test's own PostgreSQL connections, a fake Rasa on loopback,
the real service process (scripts/stack.py) and the checks every fault must pass afterwards.
The fixtures that hand these out are in tests/faults/conftest.py."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.utils.e2e import free_port, stack_module

# What the fake Rasa answers a turn with; a marker that never occurs in a young person's text.
FAKE_ANSWER = "Testbot: tak fordi du skriver."
FAKE_GREETING = "Testbot: hej."  # its answer to the service's greeting trigger ("/...")
# Danish texts the API may answer an outage with (handoff_service/main.py, admission.py).
DANISH_503 = ("Tjenesten", "Prøv igen")


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        if result := predicate():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


# -- PostgreSQL ---------------------------------------------------------------------------------


class Database:
    """The test's own connections to the service's database (psycopg, autocommit)."""

    def __init__(self, sqlalchemy_url: str) -> None:
        self.url = sqlalchemy_url
        self.conninfo = (
            make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)
        )

    def connect(self, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=autocommit, connect_timeout=5)

    def rows(self, sql: str, *args) -> list[tuple]:
        with self.connect() as connection:
            return connection.execute(sql, args).fetchall()

    def value(self, sql: str, *args):
        return self.rows(sql, *args)[0][0]

    @contextmanager
    def row_lock(self, conversation_id: str) -> Iterator[None]:
        """Holds the conversation's row lock (SELECT ... FOR UPDATE in an open transaction): a
        turn that inserts a message or updates the conversation waits for it."""
        connection = self.connect(autocommit=False)
        try:
            connection.execute(
                "SELECT id FROM conversations WHERE id = %s FOR UPDATE", (conversation_id,)
            )
            yield
        finally:
            connection.rollback()
            connection.close()

    def lock_waiters(self) -> int:
        """Backends of this database blocked on a lock (the turn waiting for our row lock)."""
        return self.value(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )


# -- a fake Rasa --------------------------------------------------------------------------------


class FakeRasa:
    """Rasa's REST webhook on 127.0.0.1: answers `[{"recipient_id": ..., "text": ...}]`, or
    hangs, or drops the connection without an answer (a Rasa killed mid-request), or 500.

    `gate_on`: a request whose message contains it is recorded, `gated` is set, and the answer
    waits until `release` is set (the test does something in between).
    """

    def __init__(self) -> None:
        self.mode = "answer"
        self.requests: list[tuple[str, str]] = []
        self.gate_on: str | None = None
        self.gated = threading.Event()
        self.release = threading.Event()
        self.closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: message texts stay out of logs
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                sender, message = body.get("sender", ""), body.get("message", "")
                fake.requests.append((sender, message))
                mode = fake.mode
                if fake.gate_on and fake.gate_on in message:
                    fake.gated.set()
                    fake.release.wait(timeout=30)
                if mode == "hang":
                    fake.closing.wait(timeout=120)
                    self.close_connection = True
                    return
                if mode == "die":
                    self.close_connection = True
                    return  # nothing written: the client sees the connection closed
                if mode == "error":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                line = FAKE_GREETING if message.startswith("/") else FAKE_ANSWER
                payload = json.dumps([{"recipient_id": sender, "text": line}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self, text: str) -> bool:
        return any(text in message for _sender, message in self.requests)

    def close(self) -> None:
        self.closing.set()
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# -- the service --------------------------------------------------------------------------------

SERVICE_ENV = {
    "ENVIRONMENT": "test",
    "DEMO_COUNSELLOR_PASSWORD": "fault-test-password",
    "RASA_TIMEOUT_SECONDS": "3",
    "RASA_BREAKER_FAILURES": "100",  # every turn asks the fake Rasa: the breaker is tested apart
    # Recovery as soon as the service allows (never sooner than Rasa's timeout + 13 s).
    "UNANSWERED_AFTER_SECONDS": "1",
    "UNANSWERED_CHECK_SECONDS": "1",
}
# Rasa's timeout + 3 s connect + 10 s margin (unanswered_cutoff in handoff_service/young_turn.py),
# one check interval and slack for a busy machine.
RECOVERY_SECONDS = 3 + 3 + 10 + 1 + 10


def service_stack(tmp_path: Path, database: Database, rasa_port: int, **env: str):
    stack = stack_module.Stack(
        service_port=free_port(),
        rasa_port=rasa_port,
        actions_port=free_port(),
        database_url=database.url,
        log_dir=tmp_path / "log",
        service_env={**SERVICE_ENV, "SECRET_KEY_PATH": str(tmp_path / "secret_key"), **env},
    )
    stack.start_service()
    stack.wait_until_ready(timeout=60)
    return stack


def kill_9(stack) -> None:
    """SIGKILL the service's process group, as the kernel's OOM killer or a power cut would."""
    process = stack.processes.pop("service")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def restart(stack) -> None:
    stack.processes.pop("service", None)
    stack.start_service()
    stack.wait_until_ready(timeout=60)


# -- what every fault must leave behind ---------------------------------------------------------


def duplicates(database: Database) -> int:
    """Young messages stored more than once (same client message id, or same text)."""
    by_id = database.value(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE client_message_id IS NOT NULL "
        "GROUP BY conversation_id, client_message_id HAVING count(*) > 1) AS twice"
    )
    by_text = database.value(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE sender = 'young' "
        "GROUP BY conversation_id, text HAVING count(*) > 1) AS twice"
    )
    return by_id + by_text


def unanswered(database: Database) -> list[str]:
    """Conversations with the bot or queued whose newest message is the young person's."""
    return [
        conversation_id
        for (conversation_id,) in database.rows(
            "SELECT c.id FROM conversations c JOIN messages m ON m.id = "
            "(SELECT max(id) FROM messages WHERE conversation_id = c.id) "
            "WHERE m.sender = 'young' AND c.status IN ('bot', 'queued')"
        )
    ]


def half_written(database: Database, crisis_texts: list[str]) -> list[str]:
    """What a torn transaction would leave: a crisis message stored without the lexicon's
    verdict (risk critical, queued or with a counsellor), or a bot turn answer (the fake
    Rasa's line) with no young message before it in its conversation."""
    problems = []
    for conversation_id, risk, status in database.rows(
        "SELECT DISTINCT c.id, c.risk, c.status FROM conversations c "
        "JOIN messages m ON m.conversation_id = c.id "
        "WHERE m.sender = 'young' AND m.text = ANY(%s)",
        crisis_texts,
    ):
        if risk != "critical" or status not in ("queued", "active"):
            problems.append(f"{conversation_id}: crisis stored with risk {risk}, {status}")
    for (message_id,) in database.rows(
        "SELECT b.id FROM messages b WHERE b.sender = 'bot' AND b.text = %s AND NOT EXISTS "
        "(SELECT 1 FROM messages y WHERE y.conversation_id = b.conversation_id "
        "AND y.sender = 'young' AND y.id < b.id)",
        FAKE_ANSWER,
    ):
        problems.append(f"bot answer {message_id} without its turn")
    return problems


def log_hits(log_dir: Path, texts: list[str]) -> list[str]:
    """(log, text) pairs where a message text reached a log of the run."""
    hits = []
    for log in sorted(log_dir.glob("*.log")):
        content = log.read_text(encoding="utf-8", errors="replace")
        hits += [f"{log.name}: {text!r}" for text in texts if text in content]
    return hits
