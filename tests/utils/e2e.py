"""Helpers for tests against the real system (scripts/stack.py): Rasa, actions and the service
as processes on loopback. The shared `live_stack` and `api` fixtures are in tests/conftest.py."""

from __future__ import annotations

import importlib.util
import json
import queue
import socket
import sys
import threading
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
stack_module = importlib.util.module_from_spec(_spec)
sys.modules["stack"] = stack_module  # dataclasses look their module up there
_spec.loader.exec_module(stack_module)

# How each process of a stack is started again (scripts/stack.py).
_STARTERS = {
    "service": "start_service",
    "actions": "start_actions",
    "rasa": "start_rasa",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def restore_stack(stack, timeout: float = 300) -> None:
    """Starts again every process of `stack` that a test stopped, killed or crashed, and waits
    until all answer: the next test finds the whole system, whatever ran before it."""
    restarted = False
    for name, starter in _STARTERS.items():
        process = stack.processes.get(name)
        if process is not None and process.poll() is None:
            continue
        stack.stop(name)  # forgets an exited process
        getattr(stack, starter)()
        restarted = True
    if restarted:
        stack.wait_until_ready(timeout=timeout)


def start(api: httpx.Client):
    response = api.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    body = response.json()
    return body, {"Authorization": f"Bearer {body['token']}"}


class EventStream:
    """Reads a Server-Sent Events stream in a background thread, with the token in a header."""

    def __init__(self, base_url: str, path: str, token: str) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(5, read=None))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(path, token), daemon=True)
        self._thread.start()

    def _read(self, path: str, token: str) -> None:
        try:
            with self._client.stream(
                "GET", path, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                event = None
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: ") and event:
                        self.events.put((event, json.loads(line.removeprefix("data: "))))
        except httpx.HTTPError:
            return

    def wait_for(self, predicate, timeout: float = 20) -> tuple[str, dict]:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if predicate(*event):
                return event
        raise AssertionError("the expected event did not arrive on the stream")

    def close(self) -> None:
        self._stop.set()
        self._client.close()


def login(api: httpx.Client, username: str) -> dict[str, str]:
    response = api.post(
        "/api/v1/auth/login", json={"username": username, "password": "e2e-password"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def set_calendar(api: httpx.Client, *, open_now: bool) -> None:
    """Replace the calendar: a shift on now (open) or only one starting in three days (closed)."""
    from datetime import datetime, timedelta

    from tests.utils.clock import TZ, open_now_window

    admin = login(api, "demo-admin")
    calendar = api.get("/api/v1/shifts", headers=admin).json()
    for shift in calendar["weekly"]:
        api.delete(f"/api/v1/shifts/weekly/{shift['id']}", headers=admin)
    for exception in calendar["exceptions"]:
        api.delete(f"/api/v1/shifts/exceptions/{exception['id']}", headers=admin)
    if open_now:
        on_date, starts_at, ends_at = open_now_window()
    else:
        in_three_days = (datetime.now(TZ) + timedelta(days=3)).date()
        on_date, starts_at, ends_at = in_three_days.isoformat(), "17:00", "21:00"
    response = api.post(
        "/api/v1/shifts/exceptions",
        json={
            "on_date": on_date,
            "kind": "extra",
            "starts_at": starts_at,
            "ends_at": ends_at,
            "counsellors": 2,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    status = api.get("/api/v1/service-status").json()
    assert status["shift_open"] is open_now, status
