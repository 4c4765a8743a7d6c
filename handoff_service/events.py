"""In-process publish/subscribe for Server-Sent Events.

Channels: `conversation:<id>` for one young person, `dashboard` for counsellors. Publishing is
safe from worker threads (sync routes) and from the event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

SUBSCRIBER_BUFFER = 100


class EventBroker:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._lock = threading.Lock()

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def has_subscribers(self, channel: str) -> bool:
        with self._lock:
            return bool(self._subscribers.get(channel))

    def channels_with_prefix(self, prefix: str) -> list[str]:
        with self._lock:
            return [c for c, subs in self._subscribers.items() if subs and c.startswith(prefix)]

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        with self._lock:
            self._subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                self._subscribers[channel].discard(queue)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]

    def publish(self, channel: str, event: str, data: dict[str, Any]) -> None:
        self.publish_many([(channel, event, data)])

    def publish_many(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Hand many events to the loop in one wake-up (one per event would cost a syscall each)."""
        with self._lock:
            deliveries = [
                (queue, {"event": event, "data": data})
                for channel, event, data in events
                for queue in self._subscribers.get(channel, ())
            ]
        if deliveries and self._loop is not None:
            self._loop.call_soon_threadsafe(_offer_all, deliveries)


def _offer_all(deliveries: list[tuple[asyncio.Queue[dict[str, Any]], dict[str, Any]]]) -> None:
    for queue, item in deliveries:
        _offer(queue, item)


def _offer(queue: asyncio.Queue[dict[str, Any]], item: dict[str, Any]) -> None:
    # A subscriber that stops reading must not hold memory forever: drop the oldest event; the
    # client resynchronises with GET on reconnect.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def format_sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
