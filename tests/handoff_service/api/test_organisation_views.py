"""What the pages are told about organisations beyond routing and access (docs/organisations.md):
the young person's view names its page, "Mine samtaler" names the queue, and a referral is heard
by the staff of the queue the conversation left."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.organisations import (
    MONDAY,
    Clock,
    build_network,
    freeze_clock,
    on_day,
    start_on,
    waiting_young,
)
from tests.utils.sse import listen


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return freeze_clock(monkeypatch, on_day(MONDAY, 13))  # Åby open, the network closed


@pytest.fixture
def network(client: TestClient, admin_headers, settings, clock):
    return build_network(client, admin_headers, settings)


def test_the_young_persons_view_names_the_page_it_started_on(client: TestClient, network):
    on_aaby = start_on(client, "aaby").view(client)
    assert on_aaby["organisation"] == {"slug": "aaby", "name": "Åby Kommune"}
    assert on_aaby["organisation_page"] == "/ung/aaby"
    on_default = start_on(client, None).view(client)
    assert on_default["organisation_page"] == "/"


def test_mine_samtaler_names_the_queue_and_the_page(client: TestClient, internal_headers, network):
    young = waiting_young(client, internal_headers, "aaby")
    counsellor = network.counsellor("aaby")
    assert client.post("/api/v1/queue/claim", headers=counsellor).json()["id"] == young.id
    mine = client.get("/api/v1/counsellor/mine", headers=counsellor).json()
    assert [(row["id"], row["queue"]["slug"], row["origin"]["slug"]) for row in mine] == [
        (young.id, "aaby", "aaby")
    ]


def test_the_queue_a_referral_leaves_hears_of_it(client: TestClient, internal_headers, network):
    young = waiting_young(client, internal_headers, "aaby")
    with listen(client, "/api/v1/queue/events", network.counsellor("aaby")) as aaby_dashboard:
        assert aaby_dashboard.next_of("queue")["reason"] == "connected"
        referred = client.post(
            f"/api/v1/counsellor/conversations/{young.id}/refer",
            json={"organisation": "fjordby", "reason": "young_person_asked"},
            headers=network.counsellor("aaby"),
        )
        assert referred.status_code == 200, referred.text
        event = aaby_dashboard.next_of("queue")
    # Åby's counsellors see the row leave at once (Fjordby's queue is not theirs).
    assert event["reason"] == "referred" and event["conversation_id"] == young.id
    assert event["waiting_count"] == 0
