"""A crisis never waits for Rasa: a short timeout and a circuit breaker (rasa_client.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from handoff_service.config import Settings
from handoff_service.main import create_app
from handoff_service.rasa_client import BotLine, CircuitBreaker, RasaClient, RasaUnavailable
from tests.utils.hung_server import hung_server
from tests.utils.service import start

CRISIS = "jeg vil ikke leve mere"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_defaults_are_short():
    settings = Settings(environment="test", secret_key="s" * 40)
    assert settings.rasa_timeout_seconds == 5
    assert settings.rasa_breaker_failures == 3
    assert settings.unanswered_after_seconds == 60


def test_breaker_opens_after_k_failures_in_a_row():
    clock = Clock()
    breaker = CircuitBreaker(3, 30, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_success()  # a success in between starts the count again
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now += 29.9
    assert not breaker.allow()


def test_half_open_lets_one_probe_through_and_its_result_decides():
    clock = Clock()
    breaker = CircuitBreaker(1, 30, clock=clock)
    breaker.record_failure()
    clock.now += 30
    assert breaker.state == "half_open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else while it runs
    breaker.record_failure()  # the probe failed: open for another T
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_client_skips_rasa_while_open_and_probes_after(monkeypatch):
    clock = Clock()
    client = RasaClient("http://127.0.0.1:1", 1, CircuitBreaker(2, 10, clock=clock))
    calls = []

    def failing(base_url, conversation_id, text, timeout):
        calls.append(text)
        raise RasaUnavailable

    monkeypatch.setattr("handoff_service.rasa_client.send_to_rasa", failing)
    for _ in range(4):
        with pytest.raises(RasaUnavailable):
            client.send("c", "hej")
    assert len(calls) == 2  # the third and fourth never reached Rasa
    clock.now += 10
    monkeypatch.setattr("handoff_service.rasa_client.send_to_rasa", lambda *a: [BotLine("Hej")])
    assert client.send("c", "hej") == [BotLine("Hej")]
    assert client.breaker.state == "closed"


@pytest.fixture
def hung_rasa() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts and never answers (a hung Rasa)."""
    with hung_server() as port:
        yield f"http://127.0.0.1:{port}"


def test_a_crisis_with_rasa_hung_gets_the_critical_fallback_quickly(settings, hung_rasa):
    timeout = 1.0
    hung = settings.model_copy(
        update={
            "rasa_url": hung_rasa,
            "rasa_timeout_seconds": timeout,
            "rasa_breaker_failures": 2,
        }
    )
    texts_key = "critical_without_bot"
    with TestClient(create_app(hung)) as client:
        critical_lines = client.app.state.texts[texts_key]
        durations = []
        for place in range(1, 5):
            # The greeting waits for the hung Rasa too, until the breaker opens.
            conversation_id, headers, _ = start(client)
            started = time.perf_counter()
            turn = client.post(
                f"/api/v1/conversations/{conversation_id}/messages",
                json={"text": CRISIS},
                headers=headers,
            ).json()
            durations.append(time.perf_counter() - started)
            assert [m["text"] for m in turn["messages"]] == list(critical_lines)
            assert turn["status"] == "queued" and turn["queue"]["position"] == place
        # One timeout at most, then (breaker open after 2 failures) no wait at all.
        assert durations[0] < timeout + 1.0, durations
        assert max(durations[1:]) < 0.5, durations
        assert client.app.state.rasa.breaker.state == "open"


def test_a_crisis_does_not_wait_the_ordinary_timeout_for_a_hung_rasa(settings, hung_rasa):
    """With the ordinary timeout long (30 s), a message the lexicon calls critical and the
    greeting wait only the quick timeout (1 s): both are answered long before 30 s."""
    hung = settings.model_copy(
        update={
            "rasa_url": hung_rasa,
            "rasa_timeout_seconds": 30.0,
            "rasa_quick_timeout_seconds": 1.0,
            "rasa_breaker_failures": 10,
        }
    )
    with TestClient(create_app(hung)) as client:
        critical_lines = client.app.state.texts["critical_without_bot"]
        started = time.monotonic()
        conversation_id, headers, greeting = start(client)
        turn = client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": CRISIS},
            headers=headers,
        ).json()
        waited = time.monotonic() - started
    assert greeting["messages"], "the service's own greeting"
    assert [m["text"] for m in turn["messages"]] == list(critical_lines)
    assert turn["status"] == "queued" and turn["queue"]["position"] == 1
    # Not a timing figure (those are in docs/reliability.md): either path took the quick
    # timeout, or the ordinary one (30 s each).
    assert waited < 15, "the greeting or the crisis waited the ordinary timeout"
