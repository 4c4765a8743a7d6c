"""Two service processes on one PostgreSQL hear each other (issue #18, cluster_events.py).

Two apps in this process, each with its own broker and its own LISTEN connection, stand for two
service processes behind a balancer: what a counsellor does through one reaches the young
person whose stream is open on the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from handoff_service.cluster_events import MAX_PAYLOAD, PgEventBus, wait_until
from handoff_service.main import create_app
from tests.utils.service import login_headers, start
from tests.utils.sse import listen

pytestmark = pytest.mark.postgres


@pytest.fixture
def two(settings) -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(create_app(settings)) as a, TestClient(create_app(settings)) as b:
        for client in (a, b):
            bus = client.app.state.cluster_bus
            assert bus is not None and wait_until(bus.listening.is_set, 10)
        yield a, b


def test_a_claim_and_a_reply_on_one_process_reach_the_stream_on_the_other(two):
    a, b = two
    first, first_headers, _ = start(a)
    second, second_headers, _ = start(a)
    a.post(f"/api/v1/conversations/{first}/handoff", headers=first_headers)
    a.post(f"/api/v1/conversations/{second}/handoff", headers=second_headers)
    counsellor = login_headers(a, "demo")

    with (
        listen(b, f"/api/v1/conversations/{first}/events", first_headers) as first_stream,
        listen(b, f"/api/v1/conversations/{second}/events", second_headers) as second_stream,
    ):
        assert first_stream.next_of("status")["queue"]["position"] == 1
        assert second_stream.next_of("status")["queue"]["position"] == 2
        started = time.monotonic()
        claimed = a.post("/api/v1/queue/claim", headers=counsellor)
        assert claimed.json()["id"] == first
        # The one still waiting moves up: B recomputed its place from the database.
        moved = second_stream.next_of("queue")
        assert moved["queue"]["position"] == 1 and moved["queue"]["waiting_count"] == 1
        # The one claimed is told a counsellor has it, on B.
        assert first_stream.next_of("status")["status"] == "active"
        assert time.monotonic() - started < 10

        reply = a.post(
            f"/api/v1/conversations/{first}/reply",
            json={"text": "Hej, jeg hedder Sara og er rådgiver. Hvordan har du det?"},
            headers=counsellor,
        )
        assert reply.status_code == 200, reply.text
        message = first_stream.next_of("message")
        assert message["sender"] == "counsellor"
        assert message["text"] == "Hej, jeg hedder Sara og er rådgiver. Hvordan har du det?"


def test_the_dashboard_on_one_process_hears_a_handoff_on_the_other(two):
    a, b = two
    conversation_id, headers, _ = start(a)
    with listen(b, "/api/v1/queue/events", login_headers(b, "demo")) as dashboard:
        assert dashboard.next_of("queue")["reason"] == "connected"
        a.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
        event = dashboard.next_of("queue")
    assert event["reason"] == "handoff" and event["conversation_id"] == conversation_id
    assert event["waiting_count"] == 1


def test_a_message_too_long_for_one_notice_is_read_from_the_database(two):
    a, b = two
    conversation_id, headers, _ = start(a)
    a.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    counsellor = login_headers(a, "demo")
    a.post("/api/v1/queue/claim", headers=counsellor)
    # 2,000 characters (the most a reply may have), four bytes each: over 8,000 bytes.
    long_text = "Du er ikke alene " + "💛" * 1983
    assert len(long_text) == 2000 and len(long_text.encode()) > MAX_PAYLOAD
    with listen(b, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        stream.next_of("status")
        reply = a.post(
            f"/api/v1/conversations/{conversation_id}/reply",
            json={"text": long_text.strip()},
            headers=counsellor,
        )
        assert reply.status_code == 200, reply.text
        message = stream.next_of("message")
        while message["sender"] != "counsellor":
            message = stream.next_of("message")
        assert message["text"] == long_text.strip()


def test_notices_are_split_under_postgresqls_payload_limit():
    bus = PgEventBus("postgresql://unused", lambda e: None, lambda r: None, lambda c, i: None)
    events = [
        (f"conversation:{n}", "typing", {"sender": "counsellor", "pad": "x" * 300})
        for n in range(100)
    ]
    payloads = bus._payloads("events", events)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    import json

    sent = [tuple(item[:2]) for p in payloads for item in json.loads(p)["e"]]
    assert sent == [(c, e) for c, e, _ in events]  # all of them, in order
