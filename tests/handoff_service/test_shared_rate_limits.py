"""Rate limits that hold across service processes (issue #18; handoff_service/ratelimit.py).

Two `create_app()` on one PostgreSQL database stand for two service processes behind a balancer:
each has its own memory, its own pools and its own `RateLimits`, and only the database is
shared, so a limit that lived in memory would let through twice as much. Under SQLite (one
process) the limits stay in memory. A counter store that fails never refuses a young person's
message; a login is then guarded by the process's own memory.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from handoff_service.api.deps import TOO_MANY_MESSAGES
from handoff_service.api.routes.auth import WAIT_AFTER_WRONG_LOGINS, WRONG_LOGIN
from handoff_service.api.routes.conversations import BUSY, TOO_MANY_PICKUPS
from handoff_service.config import Settings
from handoff_service.db import make_engine
from handoff_service.main import create_app
from handoff_service.migrations import upgrade_database
from handoff_service.ratelimit import (
    CounterStore,
    LoginAttempt,
    LoginGuard,
    LoginRefusal,
    RateLimiter,
    SharedKey,
    SharedLoginGuard,
    SharedRateLimiter,
)
from tests.utils.service import DEMO_PASSWORD, closed_port, start

ATTACKER = ("203.0.113.7", 40001)
COUNSELLOR = ("198.51.100.23", 50123)
PICKUP = "/api/v1/conversations/pickup"


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    limits = {"conversation_starts_per_minute": 4, "login_attempts_per_minute": 60}
    shared = settings.model_copy(update=limits)
    with TestClient(create_app(shared)) as first, TestClient(create_app(shared)) as second:
        assert first.app.state.rate_limits is not second.app.state.rate_limits
        yield first, second


def as_client(client: TestClient, address: tuple[str, str | int]) -> TestClient:
    return TestClient(client.app, client=(str(address[0]), int(address[1])))


def login(client: TestClient, password: str, username: str = "demo"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


@pytest.mark.postgres
def test_the_thirty_first_message_across_two_processes_is_refused_in_danish(two_processes):
    a, b = two_processes
    conversation_id, headers, _ = start(a)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    for number in range(30):
        process = (a, b)[number % 2]  # the balancer sends every other request elsewhere
        sent = process.post(url, json={"text": f"besked {number}"}, headers=headers)
        assert sent.status_code == 200, (number, sent.text)
    for process in (a, b):
        refused = process.post(url, json={"text": "en til"}, headers=headers)
        assert refused.status_code == 429
        assert refused.json() == {"detail": TOO_MANY_MESSAGES}
        assert "Vent et øjeblik" in refused.json()["detail"] and "112" in refused.json()["detail"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    stored = b.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    young = [m["text"] for m in stored["messages"] if m["sender"] == "young"]
    assert len(young) == 30 and "en til" not in young
    # Another young person, on either process, is not affected.
    other_id, other_headers, _ = start(b)
    other_url = f"/api/v1/conversations/{other_id}/messages"
    assert a.post(other_url, json={"text": "hej"}, headers=other_headers).status_code == 200


@pytest.mark.postgres
def test_the_ceiling_on_new_conversations_is_one_for_both_processes(two_processes):
    a, b = two_processes
    assert [p.post("/api/v1/conversations").status_code for p in (a, b, a, b)] == [201] * 4
    for process in (a, b):
        refused = process.post("/api/v1/conversations")
        assert refused.status_code == 429 and refused.json() == {"detail": BUSY}
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


@pytest.mark.postgres
def test_a_guesser_waits_on_every_process_and_an_unlock_reaches_every_process(two_processes):
    a, b = two_processes
    guesser_a, guesser_b = as_client(a, ATTACKER), as_client(b, ATTACKER)
    answers = [login((guesser_a, guesser_b)[n % 2], f"gæt-{n}").status_code for n in range(5)]
    assert answers == [401] * 5
    for guesser in (guesser_a, guesser_b):
        refused = login(guesser, DEMO_PASSWORD)  # even the right password waits
        assert refused.status_code == 429 and refused.json() == {"detail": WAIT_AFTER_WRONG_LOGINS}
        assert 1 <= int(refused.headers["Retry-After"]) <= 15
    # The counsellor at her own computer logs in through either process.
    assert login(as_client(b, COUNSELLOR), DEMO_PASSWORD).status_code == 200
    mistyped = login(as_client(a, COUNSELLOR), "demo-test-pasword")
    assert mistyped.status_code == 401 and mistyped.json() == {"detail": WRONG_LOGIN}
    # An admin unlocks on process A; the guesser's next attempt on process B is checked again.
    admin = login(as_client(a, ("198.51.100.99", 50999)), DEMO_PASSWORD, "demo-admin").json()
    admin_headers = {"Authorization": f"Bearer {admin['access_token']}"}
    users = {u["username"]: u for u in a.get("/api/v1/users", headers=admin_headers).json()}
    assert users["demo"]["locked"] is True
    unlocked = a.patch(
        f"/api/v1/users/{users['demo']['id']}", json={"unlock": True}, headers=admin_headers
    )
    assert unlocked.status_code == 200
    assert login(guesser_b, DEMO_PASSWORD).status_code == 200


@pytest.mark.postgres
def test_pickup_guesses_count_once_for_both_processes(two_processes):
    a, b = two_processes
    _id, _headers, created = start(a)
    guessers = (as_client(a, ATTACKER), as_client(b, ATTACKER))
    answers = [guessers[n % 2].post(PICKUP, json={"code": "K7QM-3XPD-9T"}) for n in range(10)]
    assert [answer.status_code for answer in answers] == [404] * 10
    refused = guessers[1].post(PICKUP, json={"code": created["pickup_code"]})
    assert refused.status_code == 429 and refused.json() == {"detail": TOO_MANY_PICKUPS}
    assert as_client(b, COUNSELLOR).post(PICKUP, json={"code": created["pickup_code"]}).is_success


@pytest.mark.postgres
def test_the_table_holds_no_address_user_agent_or_username_and_nothing_is_logged(
    two_processes, session, caplog
):
    caplog.set_level(logging.DEBUG)
    a, b = two_processes
    for process in (a, b):
        guesser = as_client(process, ATTACKER)
        guesser.headers["User-Agent"] = "Mozilla/5.0 (Guesser)"
        for _ in range(3):
            login(guesser, "gæt")
            guesser.post(PICKUP, json={"code": "K7QM-3XPD-9T"})
    rows = session.execute(text("SELECT key, hits, blocked_until FROM rate_counters")).all()
    keys = [row.key for row in rows]
    assert any(key.startswith("login:") for key in keys)
    assert any(key.startswith("pickup_clients:") for key in keys)
    stored = repr(rows)
    for secret in (ATTACKER[0], "203.0.113", "Mozilla", "Guesser", "demo", "testclient"):
        assert secret not in stored
    # Both processes hashed the client alike: one row for it, whichever process it reached.
    assert len([key for key in keys if key.startswith("pickup_clients:")]) == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ATTACKER[0] not in logged and "Mozilla" not in logged
    assert not any(key.split(":", 1)[1] in logged for key in keys if ":" in key)


# The store on its own, with a clock the test moves (seconds).


@pytest.fixture
def store_at(database_url: str) -> Iterator[tuple[CounterStore, list[float]]]:
    engine = make_engine(database_url)
    upgrade_database(engine)
    now = [1_000_000.0]
    store = CounterStore.beside(engine, clock=lambda: now[0])
    yield store, now
    engine.dispose()


@pytest.mark.postgres
def test_the_shared_window_slides_like_the_memory_one(store_at):
    store, now = store_at
    limiter = SharedRateLimiter(store, "test", limit=2, window_seconds=60)
    start_at = now[0]
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == pytest.approx(60.0)
    assert limiter.hit("b") is None
    now[0] = start_at + 59.9
    assert limiter.hit("a") == pytest.approx(0.1, abs=1e-6)
    now[0] = start_at + 60.1
    assert limiter.hit("a") is None
    # A refund gives back the newest hit; forget drops the key.
    limiter.refund("a")
    assert limiter.hit("a") is None and limiter.hit("a") is None and limiter.hit("a")
    limiter.forget("a")
    assert limiter.hit("a") is None


@pytest.mark.postgres
def test_the_shared_window_gives_the_memory_answers_hit_for_hit(store_at):
    store, now = store_at
    memory = RateLimiter(limit=4, window_seconds=10, clock=lambda: now[0])
    shared = SharedRateLimiter(store, "test", limit=4, window_seconds=10)
    steps = random.Random(18)  # noqa: S311 - a repeatable sequence, not a secret
    for _ in range(300):
        now[0] += steps.choice((0.0, 0.3, 1.0, 2.5, 4.0))
        key = steps.choice("abc")
        expected, got = memory.hit(key), shared.hit(key)
        assert (expected is None) == (got is None)
        if expected is not None:
            assert got == pytest.approx(expected, abs=1e-6)


@pytest.mark.postgres
def test_the_shared_login_waits_grow_like_the_memory_ones(store_at):
    store, now = store_at
    guard = SharedLoginGuard(store, 60, SharedKey("k" * 40))
    waits = []
    for _ in range(12):
        attempt = guard.begin("demo", "client-a")
        if isinstance(attempt, LoginRefusal):
            waits.append(attempt.retry_after)
            now[0] += attempt.retry_after
            attempt = guard.begin("demo", "client-a")
        assert isinstance(attempt, LoginAttempt) and attempt.shared
    assert waits == pytest.approx([15, 30, 60, 120, 240, 480, 900])
    now[0] += 900
    attempt = guard.begin("demo", "client-a")
    assert isinstance(attempt, LoginAttempt)
    guard.succeeded(attempt)
    assert all(isinstance(guard.begin("demo", "client-a"), LoginAttempt) for _ in range(5))
    # Parallel guesses of one client: 5 let through, another client is not affected.
    results = [guard.begin("demo-admin", "client-b") for _ in range(20)]
    assert sum(isinstance(result, LoginAttempt) for result in results) == 5
    assert isinstance(guard.begin("demo-admin", "client-c"), LoginAttempt)


@pytest.mark.postgres
def test_the_shared_login_ceiling_sheds_only_clients_that_failed(store_at):
    store, now = store_at
    guard = SharedLoginGuard(store, 3, SharedKey("k" * 40))
    for n in range(3):
        assert isinstance(guard.begin(f"user{n}", f"guesser{n}"), LoginAttempt)
    refusal = guard.begin("user0", "guesser0")
    assert isinstance(refusal, LoginRefusal) and refusal.reason == "service"
    assert refusal.retry_after == pytest.approx(60)
    assert isinstance(guard.begin("demo", "fresh-client"), LoginAttempt)
    now[0] += 61
    assert isinstance(guard.begin("user0", "guesser0"), LoginAttempt)


@pytest.mark.postgres
def test_rows_past_their_window_are_deleted_by_a_later_hit(store_at, session):
    store, now = store_at
    limiter = SharedRateLimiter(store, "test", limit=5, window_seconds=60)
    for n in range(50):
        limiter.hit(f"conversation-{n}")
    now[0] += 61
    store._next_cleanup = 0.0  # the next hit's turn to clean up (once a minute by the clock)
    limiter.hit("fresh")
    keys = session.scalars(text("SELECT key FROM rate_counters")).all()
    assert keys == ["test:fresh"]


# Failing open; the single process under SQLite.


def broken_store() -> CounterStore:
    """A store whose PostgreSQL does not answer (a closed port)."""
    url = f"postgresql+psycopg://nobody:x@127.0.0.1:{closed_port()}/nothing"
    return CounterStore.beside(create_engine(url))


def test_a_failing_store_never_refuses_a_message_and_the_limit_still_holds(
    client: TestClient, caplog
):
    caplog.set_level(logging.WARNING)
    store = broken_store()
    client.app.state.rate_limits.messages = SharedRateLimiter(store, "messages", 3)
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    answers = [
        client.post(url, json={"text": f"besked {n}"}, headers=headers).status_code
        for n in range(4)
    ]
    # Counted in the process's memory meanwhile: the same limit, never a refusal for the outage.
    assert answers == [200, 200, 200, 429]
    warnings = [r.getMessage() for r in caplog.records if r.name == "handoff_service.ratelimit"]
    assert warnings and conversation_id not in "\n".join(warnings)


def test_a_failing_store_still_guards_the_login_in_memory():
    guard = SharedLoginGuard(broken_store(), 60)
    results = [guard.begin("demo", "client-a") for _ in range(6)]
    assert [isinstance(r, LoginAttempt) for r in results] == [True] * 5 + [False]
    assert not any(r.shared for r in results if isinstance(r, LoginAttempt))
    assert isinstance(guard.begin("demo", "client-b"), LoginAttempt)


def test_under_sqlite_the_limits_stay_in_memory(client: TestClient):
    if client.app.state.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    limits = client.app.state.rate_limits
    assert isinstance(limits.messages, RateLimiter) and isinstance(limits.starts, RateLimiter)
    assert isinstance(limits.logins, LoginGuard)


def test_the_shared_key_is_the_same_in_every_process_and_changes_every_day():
    day = [86_400.0 * 20_000 + 10]
    first, second = SharedKey("s" * 40, lambda: day[0]), SharedKey("s" * 40, lambda: day[0])
    assert first.hash("203.0.113.7") == second.hash("203.0.113.7")
    assert "203.0.113.7" not in first.hash("203.0.113.7")
    assert SharedKey("t" * 40, lambda: day[0]).hash("203.0.113.7") != first.hash("203.0.113.7")
    today = first.hash("203.0.113.7")
    day[0] += 86_400
    assert first.hash("203.0.113.7") != today
