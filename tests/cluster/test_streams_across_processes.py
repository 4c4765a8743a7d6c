"""Events across service processes (issue #18), on the real cluster.

(a) A young person's stream held on process B hears that a counsellor claimed on process A: the
    one behind them moves up, and the claimed one is told a counsellor took the conversation.
(b) Process B is killed (SIGKILL) mid-stream while a counsellor writes from A: the page
    reconnects through the balancer and, with the re-fetch it makes on every reconnect, has
    every message the counsellor wrote, none twice.

The time for (a) is measured at scale by bench/cluster_bench.py (docs/performance.md); here the
bound is generous (10 s) so a loaded machine does not fail it.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.cluster.support import Page, empty_queue, login, queue_up

pytestmark = pytest.mark.cluster


def test_a_claim_on_a_moves_the_queue_on_a_stream_held_by_b(cluster):
    with (
        httpx.Client(base_url=cluster.service_url("a"), timeout=60) as on_a,
        httpx.Client(base_url=cluster.service_url("b"), timeout=60) as on_b,
    ):
        counsellor = login(on_a)
        empty_queue(on_a, counsellor)
        first, _ = queue_up(on_b)
        second, _ = queue_up(on_b)
        pages = [Page(cluster.service_url("b"), cluster.url, c) for c in (first, second)]
        try:
            for page in pages:
                page.wait_connected()
            snapshot = pages[1].wait_for(lambda event, data: event == "status", timeout=10)
            assert snapshot[2]["queue"]["position"] == 2

            claimed_at = time.monotonic()
            claim = on_a.post("/api/v1/queue/claim", headers=counsellor)
            assert claim.status_code == 200 and claim.json()["id"] == first["id"], claim.text

            moved_at, _, moved = pages[1].wait_for(
                lambda event, data: event == "queue" and data["queue"]["position"] == 1,
                timeout=10,
                after=claimed_at,
            )
            joined_at, _, _ = pages[0].wait_for(
                lambda event, data: event == "counsellor_joined", timeout=10, after=claimed_at
            )
            print(
                f"\nclaim on A -> position on B {moved_at - claimed_at:.3f} s, "
                f"'counsellor joined' on B {joined_at - claimed_at:.3f} s"
            )
            assert moved["status"] == "queued"
        finally:
            for page in pages:
                page.close()


def test_b_killed_mid_stream_the_page_reconnects_through_the_balancer_and_loses_nothing(cluster):
    with httpx.Client(base_url=cluster.service_url("a"), timeout=60) as on_a:
        counsellor = login(on_a)
        empty_queue(on_a, counsellor)
        young, _ = queue_up(on_a)
        claim = on_a.post("/api/v1/queue/claim", headers=counsellor)
        assert claim.status_code == 200 and claim.json()["id"] == young["id"], claim.text

        page = Page(cluster.service_url("b"), cluster.url, young)
        try:
            page.wait_connected()
            sent: list[int] = []

            def write(n: int) -> None:
                response = on_a.post(
                    f"/api/v1/conversations/{young['id']}/reply",
                    json={"text": f"Rådgiverens besked nummer {n}"},
                    headers=counsellor,
                )
                assert response.status_code == 200, response.text
                sent.append(response.json()["id"])

            for n in range(3):  # while the page's stream is on B
                write(n)
            page.wait_for(
                lambda event, data: event == "message" and data["id"] == sent[-1], timeout=10
            )

            cluster.kill("b")
            killed_at = time.monotonic()
            for n in range(3, 6):  # while the page has no stream
                write(n)
            page.wait_connected(count=2, timeout=30)
            reconnect_url = page.connections[1][1]
            reconnected_in = page.connections[1][0] - killed_at
            for n in range(6, 9):  # on the new stream, through the balancer, to A
                write(n)
            page.wait_for(
                lambda event, data: event == "message" and data["id"] == sent[-1], timeout=10
            )
        finally:
            page.close()

        counsellor_ids = {m["id"] for m in page.messages.values() if m["sender"] == "counsellor"}
        print(f"\nreconnected through the balancer {reconnected_in:.2f} s after the kill")
        assert reconnect_url == cluster.url
        assert set(sent) <= counsellor_ids, f"lost: {sorted(set(sent) - counsellor_ids)}"
        assert set(sent[:3]) <= page.live_ids, "the messages written on A before the kill"
        assert set(sent[6:]) <= page.live_ids, "the messages after the reconnect"
        server = on_a.get(f"/api/v1/counsellor/conversations/{young['id']}", headers=counsellor)
        assert server.status_code == 200, server.text
        assert sorted(page.messages) == sorted(m["id"] for m in server.json()["messages"])
