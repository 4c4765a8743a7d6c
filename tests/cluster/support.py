"""What the cluster tests share: loading scripts/cluster.py, a young person's page as an httpx
client (an event stream that reconnects and re-fetches, as static/assets/common.js and chat.js
do), the test's own PostgreSQL connection and the cluster's Redis."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import httpx
import psycopg

from tests.utils.e2e import ROOT, stack_module  # noqa: F401 - registers the module "stack"

_spec = importlib.util.spec_from_file_location("cluster", ROOT / "scripts" / "cluster.py")
assert _spec is not None and _spec.loader is not None
cluster_module = importlib.util.module_from_spec(_spec)
sys.modules["cluster"] = cluster_module  # dataclasses look their module up there
_spec.loader.exec_module(cluster_module)

PASSWORD = "e2e-password"  # noqa: S105 - the test cluster's demo login


def connect(database_url: str) -> psycopg.Connection:
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


def redis_info(redis_url: str, section: str) -> dict[str, str]:
    """`INFO <section>` of the cluster's Redis, with Debian's redis-cli (the password in the
    environment, never on the command line)."""
    parts = urllib.parse.urlsplit(redis_url)
    output = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(parts.port), "INFO", section],
        env={**os.environ, "REDISCLI_AUTH": urllib.parse.unquote(parts.password or "")},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in output.splitlines() if ":" in line and not line.startswith("#")]
    return dict(line.split(":", 1) for line in lines)


def login(client: httpx.Client, username: str = "demo") -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def start_conversation(client: httpx.Client) -> tuple[dict, dict[str, str]]:
    response = client.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    body = response.json()
    return body, {"Authorization": f"Bearer {body['token']}"}


def queue_up(client: httpx.Client) -> tuple[dict, dict[str, str]]:
    """A young person who pressed "talk to a person": waiting in the queue."""
    body, headers = start_conversation(client)
    response = client.post(f"/api/v1/conversations/{body['id']}/handoff", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued", response.text
    return body, headers


def empty_queue(client: httpx.Client, counsellor: dict[str, str]) -> None:
    """Whoever earlier tests left waiting is claimed and closed: positions start at 1."""
    while (claimed := client.post("/api/v1/queue/claim", headers=counsellor)).status_code == 200:
        client.post(
            f"/api/v1/conversations/{claimed.json()['id']}/close",
            json={"outcome": "other"},
            headers=counsellor,
        )


class Page:
    """A young person's chat page: follows the conversation's event stream and, like
    static/assets/common.js, reconnects when it drops (here through the balancer) and re-fetches
    the conversation on every (re)connect (chat.js `sync`), keeping messages by id.

    `first_url` is where the first connection goes (a given process, to make the test
    deterministic); every reconnect goes to `balancer_url`.
    """

    def __init__(self, first_url: str, balancer_url: str, conversation: dict) -> None:
        self.id = conversation["id"]
        self.headers = {"Authorization": f"Bearer {conversation['token']}"}
        self.urls = [first_url, balancer_url]
        self.balancer_url = balancer_url
        self.events: list[tuple[float, str, dict]] = []
        self.messages: dict[int, dict] = {}
        self.live_ids: set[int] = set()
        self.connections: list[tuple[float, str]] = []
        self.drops: list[float] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sync(self) -> None:
        with httpx.Client(base_url=self.balancer_url, timeout=30) as client:
            response = client.get(f"/api/v1/conversations/{self.id}", headers=self.headers)
        response.raise_for_status()
        with self._lock:
            for message in response.json()["messages"]:
                self.messages.setdefault(message["id"], message)

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            url = self.urls[0] if attempt == 0 else self.balancer_url
            attempt += 1
            try:
                with httpx.Client(base_url=url, timeout=httpx.Timeout(5, read=60)) as client:
                    with client.stream(
                        "GET", f"/api/v1/conversations/{self.id}/events", headers=self.headers
                    ) as response:
                        response.raise_for_status()
                        self.connections.append((time.monotonic(), url))
                        self._sync()
                        event = None
                        for line in response.iter_lines():
                            if self._stop.is_set():
                                return
                            if line.startswith("event: "):
                                event = line.removeprefix("event: ")
                            elif line.startswith("data: ") and event:
                                self._record(event, json.loads(line.removeprefix("data: ")))
            except (httpx.HTTPError, OSError):
                pass
            if self._stop.is_set():
                return
            self.drops.append(time.monotonic())
            time.sleep(0.2)  # common.js waits a random pause up to 1 s on the first retry

    def _record(self, event: str, data: dict) -> None:
        with self._lock:
            self.events.append((time.monotonic(), event, data))
            if event == "message":
                self.messages.setdefault(data["id"], data)
                self.live_ids.add(data["id"])

    def wait_for(self, predicate, timeout: float, after: float = 0.0) -> tuple[float, str, dict]:
        """The first event after `after` (monotonic) with predicate(event, data)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            with self._lock:
                fresh = self.events[seen:]
                seen = len(self.events)
            for at, event, data in fresh:
                if at >= after and predicate(event, data):
                    return at, event, data
            time.sleep(0.02)
        raise AssertionError(f"no such event within {timeout:.0f} s; got {self.events[-5:]}")

    def wait_connected(self, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.connections) < count:
            assert time.monotonic() < deadline, f"not connected {count}x: {self.connections}"
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
