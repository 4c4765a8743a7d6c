"""Admission: at most N requests use the database at once, so a burst waits instead of stalling.

Why: FastAPI runs each sync dependency and the sync route in worker threads. A request takes a
database connection in its dependency (the conversation, the user) and needs another thread for
its route while holding it. With more requests in flight than connections, every worker thread
can end up waiting for a connection that is held by a request waiting for a thread: nothing
answers until the pool times out (measured: 55 simultaneous requests on SQLite stalled the
service for 30 s, `/healthz` included).

The gate admits at most ``limit`` requests at a time; the others wait on the event loop (no
thread, no connection) for up to ``wait_seconds`` and then get a Danish 503 with Retry-After.
:func:`check_capacity` refuses to start when ``limit`` exceeds the connection pool or the worker
threads, so the three numbers stay sized together. An admitted request holds its place until its
response starts: for a live stream (SSE) that is right after its snapshot query, so open
streams never hold places. `/healthz` and the static pages skip the gate.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUSY = (
    "Der er rigtig mange, der skriver lige nu. Prøv igen om et øjeblik. Er du i fare, så ring 112."
)
EXEMPT_PREFIXES = ("/healthz", "/static/")


class CapacityError(ValueError):
    """The admission limit does not fit the connection pool or the worker threads."""


def check_capacity(limit: int, connections: int, threads: int) -> None:
    """Every admitted request must be able to hold one connection and one thread at once."""
    if limit < 1:
        raise CapacityError("ADMISSION_LIMIT must be at least 1")
    if limit > connections:
        raise CapacityError(
            f"ADMISSION_LIMIT {limit} exceeds the database connections ({connections})"
        )
    if limit > threads:
        raise CapacityError(f"ADMISSION_LIMIT {limit} exceeds the worker threads ({threads})")


class AdmissionGate:
    """Pure ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._places: asyncio.Semaphore | None = None
        self.waiting = 0

    @property
    def places(self) -> asyncio.Semaphore:
        # Created on first use, inside the server's event loop.
        if self._places is None:
            self._places = asyncio.Semaphore(self.limit)
        return self._places

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        self.waiting += 1
        try:
            await asyncio.wait_for(self.places.acquire(), timeout=self.wait_seconds)
        except TimeoutError:
            await _busy(send, self.wait_seconds)
            return
        finally:
            self.waiting -= 1
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.places.release()

        async def send_and_release(message: Message) -> None:
            if message["type"] == "http.response.start":
                release()  # the route and its dependencies are done with the database
            await send(message)

        try:
            await self.app(scope, receive, send_and_release)
        finally:
            release()


async def _busy(send: Send, retry_after: float) -> None:
    body = json.dumps({"detail": BUSY}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(max(1, round(retry_after))).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
