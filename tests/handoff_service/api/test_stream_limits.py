"""Live streams: capped per conversation and per staff user, and ended with a reconnect hint
when the service shuts down, so pages move to the new process instead of hanging on."""

from __future__ import annotations

from contextlib import ExitStack

from fastapi.testclient import TestClient

from handoff_service.streams import STREAMS_PER_CONVERSATION, STREAMS_PER_STAFF_USER
from tests.utils.service import start
from tests.utils.sse import listen


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_one_conversation_may_hold_five_open_streams_and_is_told_why_not_a_sixth(
    client: TestClient,
):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/events"
    with ExitStack() as open_tabs:
        for _ in range(STREAMS_PER_CONVERSATION):
            stream = open_tabs.enter_context(listen(client, url, headers))
            assert stream.next()[0] == "status"
        refused = client.get(url, headers=headers)
        assert refused.status_code == 429
        assert "for mange faner" in refused.json()["detail"]
        # Another conversation is not affected.
        other_id, other_headers, _ = start(client)
        with listen(client, f"/api/v1/conversations/{other_id}/events", other_headers) as other:
            assert other.next()[0] == "status"
    # The tabs are closed: the conversation can be followed again.
    with listen(client, url, headers) as again:
        assert again.next()[0] == "status"


def test_a_staff_user_may_hold_ten_open_streams(client: TestClient, counsellor_headers):
    with ExitStack() as open_tabs:
        for _ in range(STREAMS_PER_STAFF_USER):
            stream = open_tabs.enter_context(
                listen(client, "/api/v1/queue/events", counsellor_headers)
            )
            assert stream.next()[0] == "queue"
        refused = client.get("/api/v1/queue/events", headers=counsellor_headers)
        assert refused.status_code == 429


def test_on_shutdown_every_open_stream_gets_a_reconnect_hint_and_ends(
    client: TestClient, counsellor_headers
):
    conversation_id, headers, _ = start(client)
    with (
        listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as young,
        listen(client, "/api/v1/queue/events", counsellor_headers) as dashboard,
    ):
        assert young.next()[0] == "status"
        assert dashboard.next()[0] == "queue"
        client.app.state.broker.close_all_streams()
        for stream in (young, dashboard):
            event, data = stream.next()
            assert event == "reconnect" and 0 < data["retry_ms"] <= 5000
            assert stream.ended()
    # A page that reconnects to the closing process is sent on at once, not held.
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as late:
        assert late.next()[0] == "reconnect"
        assert late.ended()
