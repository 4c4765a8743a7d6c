"""Server-sent event streams: a snapshot first, then every event of one channel.

Capped per conversation and per staff user, and ended with a `reconnect` event (a random pause
up to RECONNECT_SPREAD_MS) when the process shuts down, so the pages move to the new process at
once instead of hanging on to the old one.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import StreamingResponse

from handoff_service.events import CLOSE, EventBroker, format_sse

KEEPALIVE_SECONDS = 15
#: Changes an event's data for one client, or drops it (None): (event, data) -> data | None.
EventView = Callable[[str, dict[str, Any]], dict[str, Any] | None]
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
#: Open streams one conversation (all its tabs) and one staff user may hold at once.
STREAMS_PER_CONVERSATION = 5
STREAMS_PER_STAFF_USER = 10
#: On shutdown the pages reconnect after a random pause up to this long, so a restart with
#: hundreds of open chats is not one stampede (static/assets/common.js reads it).
RECONNECT_SPREAD_MS = 3000
TOO_MANY_STREAMS = (
    "Samtalen er allerede åben i for mange faner eller vinduer. Luk nogle af dem, og prøv igen."
)


def conversation_owner(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def staff_owner(user_id: int) -> str:
    return f"staff:{user_id}"


def reserve_stream(broker: EventBroker, owner: str) -> None:
    """429 in Danish when `owner` already holds its cap of open streams."""
    cap = STREAMS_PER_STAFF_USER if owner.startswith("staff:") else STREAMS_PER_CONVERSATION
    if not broker.reserve_stream(owner, cap):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_STREAMS)


def install_shutdown_notice(broker: EventBroker) -> None:
    """Chain a handler in front of the server's SIGTERM/SIGINT handlers: open streams end with a
    reconnect hint at once, instead of holding the old process until it is killed.

    Called at start-up, inside the server (uvicorn has installed its handlers by then and puts
    its originals back on exit). Only the main thread may set signal handlers; elsewhere (tests
    that run the app in a thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            broker.close_all_streams()
            if callable(previous):
                previous(signum, frame)

        signal.signal(sig, handler)


async def sse_stream(
    request: Request,
    broker: EventBroker,
    channel: str,
    snapshot: dict[str, Any] | None,
    snapshot_event: str = "status",
    owner: str | None = None,
    view: EventView | None = None,
) -> AsyncIterator[str]:
    """The snapshot, then every event of `channel`, until the client goes or the process ends.

    `view` may change an event's data for this client or drop it (None): the dashboard keeps
    only the events of the staff member's own queues (handoff_service/notify.py)."""
    reconnect = format_sse("reconnect", {"retry_ms": RECONNECT_SPREAD_MS})
    # Subscribed before the snapshot is sent, so a client that has read it misses no change.
    async with broker.stream_place(owner or channel), broker.subscribe(channel) as events:
        if broker.closing:
            yield reconnect
            return
        if snapshot is not None:
            yield format_sse(snapshot_event, snapshot)
        while not await request.is_disconnected():
            try:
                item = await asyncio.wait_for(events.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if item["event"] == CLOSE:
                yield reconnect
                return
            data = item["data"] if view is None else view(item["event"], item["data"])
            if data is not None:
                yield format_sse(item["event"], data)


def event_stream(
    request: Request,
    broker: EventBroker,
    channel: str,
    snapshot: dict[str, Any] | None,
    snapshot_event: str = "status",
    owner: str | None = None,
    view: EventView | None = None,
) -> StreamingResponse:
    """The HTTP response of a live feed (the caller has reserved its place with
    :func:`reserve_stream` and closed its database session)."""
    return StreamingResponse(
        sse_stream(request, broker, channel, snapshot, snapshot_event, owner, view),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
