"""Server-Sent Events read from the in-process service (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient


class EventStream:
    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def next(self) -> tuple[str, dict]:
        """The next event; a keepalive first means nothing was pushed within 15 seconds."""
        event = None
        for line in self._lines:
            if line.startswith(": keepalive"):
                raise AssertionError("no event was pushed")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                return event, json.loads(line.removeprefix("data: "))
        raise AssertionError("stream ended")

    def ended(self) -> bool:
        """True when the server closed the stream (nothing but blank lines left)."""
        return all(not line.strip() for line in self._lines)

    def next_of(self, kind: str) -> dict:
        while True:
            event, data = self.next()
            if event == kind:
                return data


@contextmanager
def listen(client: TestClient, url: str, headers: dict[str, str]) -> Iterator[EventStream]:
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response.iter_lines())
