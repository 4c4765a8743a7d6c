"""A burst of young people never stalls the service: every request is answered, none with a 5xx
other than the admission gate's Danish "try again" (which the page retries), and nothing is lost.

The real server (uvicorn, worker threads, the connection pool) on loopback with SQLite, as
`make run` starts it; 200 requests at the same moment on the routes a reconnecting chat page
calls. Before the admission gate (handoff_service/admission.py) 55 such requests stalled the
service for 30 s. Timing figures are in docs/reliability.md (scripts/measure_burst.py), not here.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from handoff_service.admission import BUSY, CapacityError, check_capacity
from handoff_service.config import Settings
from handoff_service.main import create_app

# Load and timing: make test runs these without a second pytest worker beside them.
pytestmark = pytest.mark.alone

BURST = 200


@pytest.fixture
def live(settings: Settings) -> Iterator[str]:
    app = create_app(settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


async def _burst(base: str, conversations: list[dict]) -> tuple[list[int], list[int]]:
    limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def read(n: int) -> int:
            conversation = conversations[n % len(conversations)]
            response = await client.get(
                f"/api/v1/conversations/{conversation['id']}",
                headers={"Authorization": f"Bearer {conversation['token']}"},
            )
            return response.status_code

        async def health() -> int:
            await asyncio.sleep(0.05)  # while the burst is in flight
            return (await client.get("/healthz")).status_code

        results = await asyncio.gather(*(read(n) for n in range(BURST)), health())
    return list(results[:-1]), [results[-1]]


def test_200_simultaneous_reconnects_are_all_answered_and_health_stays_up(live: str):
    with httpx.Client(base_url=live, timeout=30) as client:
        conversations = [client.post("/api/v1/conversations").json() for _ in range(20)]
    statuses, health = asyncio.run(_burst(live, conversations))
    assert health == [200]
    assert sorted(set(statuses)) == [200], {s: statuses.count(s) for s in set(statuses)}


def test_200_simultaneous_messages_are_all_stored_and_answered(live: str):
    """200 young people send at the same moment. Each is answered: the bot's reply, or, when
    the machine is so loaded that a request waited out the admission gate, the gate's Danish
    "try again" with Retry-After (never another 5xx). The chat page keeps such a message in the
    box and sends it again with the same Idempotency-Key; here that retry is made, and in the
    end every message is stored exactly once and answered."""
    with httpx.Client(base_url=live, timeout=30) as client:
        conversations = [client.post("/api/v1/conversations").json() for _ in range(BURST)]
    keys = [f"burst-{n}" for n in range(BURST)]

    def send(client: httpx.AsyncClient, n: int):
        c = conversations[n]
        return client.post(
            f"/api/v1/conversations/{c['id']}/messages",
            json={"text": "min mor drikker igen"},
            headers={"Authorization": f"Bearer {c['token']}", "Idempotency-Key": keys[n]},
        )

    async def write_all() -> tuple[list[httpx.Response], int]:
        limits = httpx.Limits(max_connections=BURST + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=live, timeout=60, limits=limits) as client:
            answers = list(await asyncio.gather(*(send(client, n) for n in range(BURST))))
            busy = 0
            for _ in range(5):  # the page's retries, bounded
                waiting = [n for n, r in enumerate(answers) if r.status_code == 503]
                if not waiting:
                    break
                busy += len(waiting)
                for n in waiting:
                    answer = answers[n]
                    assert answer.json()["detail"] == BUSY and "retry-after" in answer.headers
                await asyncio.sleep(int(answers[waiting[0]].headers["retry-after"]))
                again = await asyncio.gather(*(send(client, n) for n in waiting))
                for n, answer in zip(waiting, again, strict=True):
                    answers[n] = answer
            return answers, busy

    responses, busy = asyncio.run(write_all())
    print(f"gate's 503 answers, retried: {busy}")  # load-dependent: a figure, not an assertion
    assert [r.status_code for r in responses] == [200] * BURST
    # Rasa is not running here: each young person got the Danish fallback, with 112.
    assert all(any("112" in m["text"] for m in r.json()["messages"]) for r in responses)
    with httpx.Client(base_url=live, timeout=30) as client:
        for c in conversations:
            stored = client.get(
                f"/api/v1/conversations/{c['id']}",
                headers={"Authorization": f"Bearer {c['token']}"},
            ).json()
            assert [m["text"] for m in stored["messages"] if m["sender"] == "young"] == [
                "min mor drikker igen"
            ]


def test_the_gate_refuses_to_start_bigger_than_the_pool_or_the_threads():
    check_capacity(20, connections=25, threads=40)
    with pytest.raises(CapacityError):
        check_capacity(30, connections=25, threads=40)
    with pytest.raises(CapacityError):
        check_capacity(30, connections=40, threads=20)
