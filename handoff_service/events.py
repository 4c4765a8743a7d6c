"""In-process publish/subscribe for Server-Sent Events.

Channels: `conversation:<id>` for one young person, `dashboard` for counsellors. Publishing is
safe from worker threads (sync routes) and from the event loop.

With several service processes (PostgreSQL), `relay` and `queue_relay` hand what this process
publishes to the other processes (handoff_service/cluster_events.py); `local_only` events (the
positions, derived state each process recomputes) and events received from another process
are never relayed again.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

SUBSCRIBER_BUFFER = 100
#: The event every open stream gets when the process shuts down (see close_all_streams).
CLOSE = "_close"
# A reserved stream place the client never opened is given back after this long.
RESERVATION_SECONDS = 30.0


class EventBroker:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._lock = threading.Lock()
        # Open streams per owner (a conversation, a staff user), and places reserved by a route
        # for a stream that has not started yet: together they are held against the cap.
        self._live: Counter[str] = Counter()
        self._reserved: dict[str, list[float]] = defaultdict(list)
        self.closing = False
        # Set when other processes must hear what this one publishes (cluster_events.py).
        self.relay: Callable[[list[tuple[str, str, dict[str, Any]]]], None] | None = None
        self.queue_relay: Callable[[str], None] | None = None

    def reserve_stream(self, owner: str, cap: int) -> bool:
        """Hold a place for one more stream of `owner`; False when `cap` streams are open."""
        now = time.monotonic()
        with self._lock:
            pending = [t for t in self._reserved[owner] if now - t < RESERVATION_SECONDS]
            if self._live[owner] + len(pending) >= cap:
                self._reserved[owner] = pending
                return False
            self._reserved[owner] = [*pending, now]
            return True

    @asynccontextmanager
    async def stream_place(self, owner: str) -> AsyncIterator[None]:
        """An open stream of `owner`, turning its reserved place into a live one."""
        with self._lock:
            if self._reserved.get(owner):
                self._reserved[owner].pop(0)
            self._live[owner] += 1
        try:
            yield
        finally:
            with self._lock:
                self._live[owner] -= 1
                if self._live[owner] <= 0:
                    del self._live[owner]
                if not self._reserved.get(owner):
                    self._reserved.pop(owner, None)

    def close_all_streams(self) -> None:
        """Shutting down: every open stream ends now with a reconnect hint, new ones at once.

        Safe from a signal handler: the deliveries are handed to the event loop."""
        self.closing = True
        with self._lock:
            deliveries = [
                (queue, {"event": CLOSE, "data": {}})
                for queues in self._subscribers.values()
                for queue in queues
            ]
        if deliveries and self._loop is not None:
            self._loop.call_soon_threadsafe(_offer_all, deliveries)

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

    def announce_queue_changed(self, reason: str) -> None:
        """Tell the other processes to recompute their streams' positions (no-op alone)."""
        if self.queue_relay is not None:
            self.queue_relay(reason)

    def publish_many(
        self, events: list[tuple[str, str, dict[str, Any]]], *, local_only: bool = False
    ) -> None:
        """Hand many events to the loop in one wake-up (one per event would cost a syscall each);
        then, unless `local_only`, to the other processes."""
        if self.relay is not None and not local_only and events:
            self.relay(events)
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
