"""Login that strangers cannot block: wrong passwords slow the guesser, never the counsellor."""

from __future__ import annotations

import logging
import time

import pytest
from fastapi.testclient import TestClient

from handoff_service.api.routes.auth import TOO_MANY_LOGINS, WAIT_AFTER_WRONG_LOGINS, WRONG_LOGIN
from handoff_service.config import Settings
from handoff_service.main import create_app
from handoff_service.ratelimit import LoginAttempt, LoginGuard, LoginRefusal, login_delay
from tests.utils.service import DEMO_PASSWORD, login_headers

ATTACKER = ("203.0.113.7", 40001)
COUNSELLOR = ("198.51.100.23", 50123)


def login(client: TestClient, password: str, username: str = "demo"):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def as_client(client: TestClient, address: tuple[str, int]) -> TestClient:
    """Another browser on the same running service (same app, its own address)."""
    return TestClient(client.app, client=address)


def test_a_stranger_hammering_a_counsellor_never_keeps_her_out(client: TestClient):
    attacker = as_client(client, ATTACKER)
    counsellor = as_client(client, COUNSELLOR)
    answers = [login(attacker, f"gæt-{n}").status_code for n in range(40)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    refused = login(attacker, "gæt-igen")
    assert refused.json() == {"detail": WAIT_AFTER_WRONG_LOGINS}
    assert int(refused.headers["Retry-After"]) >= 1
    # Even the right password is not tried for the guesser while it waits ...
    assert login(attacker, DEMO_PASSWORD).status_code == 429
    # ... but the counsellor at her own computer logs straight in, again and again.
    for _ in range(3):
        assert login(counsellor, DEMO_PASSWORD).status_code == 200
    # And a mistyped password of hers is an ordinary "wrong password", not a lock.
    mistyped = login(counsellor, "demo-test-pasword")
    assert mistyped.status_code == 401 and mistyped.json() == {"detail": WRONG_LOGIN}
    assert login(counsellor, DEMO_PASSWORD).status_code == 200


def test_a_flood_of_guesses_closes_the_login_only_for_the_guessers(settings: Settings):
    app = create_app(settings.model_copy(update={"login_attempts_per_minute": 10}))
    with TestClient(app) as client:
        guessers = [as_client(client, (f"203.0.113.{n}", 40000 + n)) for n in range(1, 13)]
        # 12 addresses spray wrong passwords at every staff account (54 attempts in 8 s used to
        # close the login for everybody).
        statuses = []
        for round_number in range(5):
            for n, guesser in enumerate(guessers):
                username = ("demo", "demo-admin", "demo-traener")[n % 3]
                statuses.append(login(guesser, f"gæt-{round_number}-{n}", username).status_code)
        assert statuses.count(401) == 12  # ten, then two first-time clients, then only refusals
        shed = login(guessers[0], "endnu-et-gæt", "demo")
        assert shed.status_code == 429 and shed.json() == {"detail": TOO_MANY_LOGINS}
        started = time.perf_counter()
        assert login(guessers[1], "endnu-et-gæt", "demo").status_code == 429
        # A shed attempt is answered before the password check (argon2 costs ~tens of ms).
        assert time.perf_counter() - started < 0.5
        # Every counsellor who has not been guessing still logs in.
        for n, username in enumerate(("demo", "demo-admin", "demo-traener")):
            staff = as_client(client, (f"198.51.100.{n + 1}", 50000 + n))
            assert login(staff, DEMO_PASSWORD, username).status_code == 200, username


def test_unknown_usernames_wait_the_same_so_nothing_reveals_who_exists(client: TestClient):
    attacker = as_client(client, ATTACKER)
    known = [login(attacker, "x", "demo").status_code for _ in range(7)]
    unknown = [login(attacker, "x", "findes-ikke").status_code for _ in range(7)]
    assert known == unknown == [401] * 5 + [429] * 2


def test_an_admin_unlock_lets_the_waiting_client_straight_back_in(
    client: TestClient, admin_headers
):
    for _ in range(5):
        assert login(client, "forkert").status_code == 401
    assert login(client, DEMO_PASSWORD).status_code == 429
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=admin_headers).json()}
    assert users["demo"]["locked"] is True
    client.patch(
        f"/api/v1/users/{users['demo']['id']}", json={"unlock": True}, headers=admin_headers
    )
    assert login_headers(client, "demo")


def test_an_ipv6_client_cannot_escape_by_changing_address_in_its_network(client: TestClient):
    answers = [
        login(as_client(client, (f"2001:db8:1:2::{n:x}", 40000)), "gæt").status_code
        for n in range(1, 9)
    ]
    assert answers == [401] * 5 + [429] * 3
    assert login(as_client(client, ("2001:db8:9:9::1", 40000)), DEMO_PASSWORD).status_code == 200


def test_no_address_or_username_is_logged_or_kept(client: TestClient, caplog):
    caplog.set_level(logging.DEBUG)
    attacker = as_client(client, ATTACKER)
    for _ in range(8):
        login(attacker, "gæt")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ATTACKER[0] not in logged
    guard: LoginGuard = client.app.state.rate_limits.logins
    kept = repr(vars(guard))
    assert ATTACKER[0] not in kept and "demo" not in kept


# The guard on its own, with a clock the test moves.


def guard_with_clock(failures_per_minute: int = 60) -> tuple[LoginGuard, list[float]]:
    now = [1000.0]
    return LoginGuard(failures_per_minute, clock=lambda: now[0]), now


def test_the_wait_grows_and_is_never_a_lock():
    guard, now = guard_with_clock()
    waits = []
    for _ in range(12):
        attempt = guard.begin("demo", "client-a")
        if isinstance(attempt, LoginRefusal):
            waits.append(attempt.retry_after)
            now[0] += attempt.retry_after  # the guesser waits as told, then tries again
            attempt = guard.begin("demo", "client-a")
        assert isinstance(attempt, LoginAttempt)  # after waiting, every attempt is checked
    assert waits == [15, 30, 60, 120, 240, 480, 900]
    assert login_delay(40) == 900  # capped at 15 minutes
    # A right password after the wait goes through and starts afresh.
    now[0] += 900
    attempt = guard.begin("demo", "client-a")
    assert isinstance(attempt, LoginAttempt)
    guard.succeeded(attempt)
    assert all(isinstance(guard.begin("demo", "client-a"), LoginAttempt) for _ in range(5))


def test_parallel_guesses_cannot_slip_past_the_count():
    guard, _ = guard_with_clock()
    # 20 attempts arrive before any password check has finished.
    results = [guard.begin("demo", "client-a") for _ in range(20)]
    assert sum(isinstance(result, LoginAttempt) for result in results) == 5
    assert isinstance(guard.begin("demo", "client-b"), LoginAttempt)


def test_failures_are_forgotten_after_an_hour():
    guard, now = guard_with_clock()
    for _ in range(4):
        guard.begin("demo", "client-a")
    now[0] += 3601
    assert all(isinstance(guard.begin("demo", "client-a"), LoginAttempt) for _ in range(4))
    assert repr(vars(guard)).count("_ClientFailures") == 1


@pytest.mark.parametrize("ceiling", [1, 10])
def test_the_ceiling_sheds_only_clients_that_failed(ceiling: int):
    guard, now = guard_with_clock(failures_per_minute=ceiling)
    for n in range(ceiling):
        assert isinstance(guard.begin(f"user{n}", f"guesser{n}"), LoginAttempt)
    refusal = guard.begin("user0", "guesser0")
    assert isinstance(refusal, LoginRefusal) and refusal.reason == "service"
    assert isinstance(guard.begin("demo", "fresh-client"), LoginAttempt)
    now[0] += 61
    assert isinstance(guard.begin("user0", "guesser0"), LoginAttempt)
