"""A restart with 200 young people following their conversations live.

The service runs as `make run` starts it (uvicorn, scripts/stack.py), on loopback with SQLite.
200 chat pages hold an open event stream; the service gets SIGTERM. Every stream must be told to
reconnect at once (not held by the old process until it is killed), the old process must exit,
and when the new process is up, all 200 pages reconnecting at the same moment (the worst case:
the pages spread themselves over 3 s) must all be answered with their stream, none with 5xx.
Figures: docs/reliability.md (scripts/measure_burst.py).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.utils.e2e import free_port, stack_module

PAGES = 200


@pytest.fixture
def service(tmp_path):
    stack = stack_module.Stack(
        service_port=free_port(),
        database_url=f"sqlite:///{tmp_path / 'handoff.db'}",
        log_dir=tmp_path / "log",
        service_env={"ENVIRONMENT": "test", "RASA_URL": f"http://127.0.0.1:{free_port()}"},
    )
    stack.start_service()
    stack.wait_until_ready(timeout=60)
    try:
        yield stack
    finally:
        stack.stop_all()


async def _first_event(client: httpx.AsyncClient, conversation: dict, into: dict) -> None:
    """Opens the page's stream, records its first event, then keeps reading into `into`."""
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    async with client.stream(
        "GET", f"/api/v1/conversations/{conversation['id']}/events", headers=headers
    ) as response:
        into.setdefault("statuses", []).append(response.status_code)
        if response.status_code != 200:
            return
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event:
                into.setdefault("events", []).append(event)
                if event == "reconnect":
                    into.setdefault("reconnect_at", []).append(time.monotonic())
                    return
                if into.get("stop_after_first"):
                    return


def test_sigterm_sends_every_open_page_to_the_new_process(service):
    base = service.service_url
    with httpx.Client(base_url=base, timeout=30) as client:
        conversations = [client.post("/api/v1/conversations").json() for _ in range(PAGES)]

    async def scenario() -> tuple[dict, float, dict]:
        limits = httpx.Limits(max_connections=PAGES + 20, max_keepalive_connections=0)
        before: dict = {}
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            streams = [asyncio.create_task(_first_event(client, c, before)) for c in conversations]
            deadline = time.monotonic() + 30
            while len(before.get("events", [])) < PAGES:  # every page has its snapshot
                assert time.monotonic() < deadline, "not every page got its stream"
                await asyncio.sleep(0.1)
            process = service.processes["service"]
            terminated_at = time.monotonic()
            process.terminate()  # SIGTERM, as a deploy or `systemctl restart` sends it
            await asyncio.wait_for(asyncio.gather(*streams), timeout=15)
            # uvicorn re-raises the signal once it has shut down cleanly.
            exited = await asyncio.to_thread(process.wait, 15)
            assert exited in (0, -15)
            exit_seconds = time.monotonic() - terminated_at
        before["told_within"] = max(before["reconnect_at"]) - terminated_at

        service.processes.pop("service")
        service.start_service()
        await asyncio.to_thread(service.wait_until_ready, 60)
        after: dict = {"stop_after_first": True}
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            await asyncio.wait_for(
                asyncio.gather(*(_first_event(client, c, after) for c in conversations)),
                timeout=60,
            )
        return before, exit_seconds, after

    before, exit_seconds, after = asyncio.run(scenario())
    assert before["events"].count("reconnect") == PAGES, "a page was left on the old process"
    assert before["told_within"] < 5 and exit_seconds < 10
    assert after["statuses"] == [200] * PAGES
    assert after["events"] == ["status"] * PAGES
