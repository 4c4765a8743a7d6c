"""Server-sent event streams: a snapshot first, then every event of one channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from handoff_service.events import EventBroker, format_sse

KEEPALIVE_SECONDS = 15
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def sse_stream(
    request: Request,
    broker: EventBroker,
    channel: str,
    snapshot: dict[str, Any] | None,
    snapshot_event: str = "status",
) -> AsyncIterator[str]:
    # Subscribed before the snapshot is sent, so a client that has read it misses no change.
    async with broker.subscribe(channel) as events:
        if snapshot is not None:
            yield format_sse(snapshot_event, snapshot)
        while not await request.is_disconnected():
            try:
                item = await asyncio.wait_for(events.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            yield format_sse(item["event"], item["data"])


def event_stream(
    request: Request,
    broker: EventBroker,
    channel: str,
    snapshot: dict[str, Any] | None,
    snapshot_event: str = "status",
) -> StreamingResponse:
    """The HTTP response of a live feed (the caller has closed its database session)."""
    return StreamingResponse(
        sse_stream(request, broker, channel, snapshot, snapshot_event),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )
