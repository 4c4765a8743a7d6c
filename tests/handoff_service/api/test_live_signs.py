"""Live signs: the young person sees the counsellor arrive and write; the counsellor sees the
young person write. Typing signals carry no text, are relayed only in a live conversation, only
by the people in it, and at most one per side every 2 s."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.service import login_headers, start
from tests.utils.sse import listen


@pytest.fixture
def published(client: TestClient) -> list[tuple[str, str, dict]]:
    """Every event the service publishes from now on, as (channel, event, data)."""
    broker = client.app.state.broker
    seen: list[tuple[str, str, dict]] = []
    original = broker.publish_many

    def recording(events, **options):
        seen.extend(events)
        original(events, **options)

    broker.publish_many = recording
    return seen


def typing_events(published) -> list[tuple[str, dict]]:
    return [(channel, data) for channel, event, data in published if event == "typing"]


def live_conversation(client: TestClient, counsellor_headers) -> tuple[str, dict[str, str]]:
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 200
    return conversation_id, headers


def test_the_young_person_is_told_when_a_counsellor_takes_the_conversation(
    client: TestClient, counsellor_headers
):
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        stream.next_of("status")
        client.post("/api/v1/queue/claim", headers=counsellor_headers)
        assert stream.next_of("status")["status"] == "active"
        joined = stream.next_of("counsellor_joined")
    assert set(joined) == {"at"}


def test_counsellor_typing_reaches_the_young_persons_stream(client: TestClient, counsellor_headers):
    conversation_id, headers = live_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}"
    with listen(client, f"{url}/events", headers) as stream:
        stream.next_of("status")
        response = client.post(f"{url}/typing", headers=counsellor_headers)
        assert response.status_code == 204 and response.content == b""
        assert stream.next_of("typing") == {"sender": "counsellor"}


def test_young_person_typing_reaches_the_counsellor_holding_it(
    client: TestClient, counsellor_headers
):
    conversation_id, headers = live_conversation(client, counsellor_headers)
    with listen(
        client, f"/api/v1/counsellor/conversations/{conversation_id}/events", counsellor_headers
    ) as dashboard:
        dashboard.next_of("status")
        assert (
            client.post(f"/api/v1/conversations/{conversation_id}/typing", headers=headers)
        ).status_code == 204
        assert dashboard.next_of("typing") == {"sender": "young"}


def test_typing_is_relayed_only_in_a_live_conversation(client: TestClient, published):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/typing"
    assert client.post(url, headers=headers).status_code == 204  # with the bot: nobody to tell
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    client.app.state.rate_limits.typing.forget(f"{conversation_id}:young")
    assert client.post(url, headers=headers).status_code == 204  # waiting: nobody to tell yet
    assert typing_events(published) == []


def test_only_the_counsellor_holding_it_may_signal(client: TestClient, counsellor_headers):
    conversation_id, _headers = live_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}/typing"
    admin = login_headers(client, "demo-admin")  # a counsellor role, but not the one holding it
    refused = client.post(url, headers=admin)
    assert refused.status_code == 409 and "ikke din" in refused.json()["detail"]
    trainer = client.post(url, headers=login_headers(client, "demo-traener"))
    assert trainer.status_code == 403
    other_id, other_headers, _ = start(client)
    # The counsellor may not signal in a conversation they do not hold, nor the young person in
    # someone else's.
    assert (
        client.post(
            f"/api/v1/conversations/{other_id}/typing", headers=counsellor_headers
        ).status_code
        == 409
    )
    assert client.post(url, headers=other_headers).status_code == 404
    assert client.post(url).status_code == 401
    assert client.post(url, headers={"Authorization": "Bearer a.b.c"}).status_code == 401
    unknown = "/api/v1/conversations/00000000-0000-0000-0000-000000000000/typing"
    assert client.post(unknown, headers=counsellor_headers).status_code == 404


def test_the_service_relays_at_most_one_signal_per_side_every_two_seconds(
    client: TestClient, counsellor_headers, published
):
    conversation_id, headers = live_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}/typing"
    answers = [client.post(url, headers=counsellor_headers).status_code for _ in range(3)]
    assert answers == [204, 429, 429]
    assert client.post(url, headers=headers).status_code == 204  # the other side has its own
    assert client.post(url, headers=headers).status_code == 429
    assert [data["sender"] for _channel, data in typing_events(published)] == [
        "counsellor",
        "young",
    ]


def test_a_typing_signal_carries_no_text(client: TestClient, counsellor_headers, published):
    conversation_id, headers = live_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}/typing"
    client.post(url, headers=headers, json={"text": "min hemmelighed"})
    assert typing_events(published) == [(f"conversation:{conversation_id}", {"sender": "young"})]
