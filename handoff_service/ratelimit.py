"""In-memory sliding-window rate limits (per conversation, per service), thread-safe.

Kept in the process because the service runs as one process; keys are conversation ids or a
fixed name, never an IP address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 50_000


class RateLimiter:
    """At most `limit` events per `window_seconds` for each key."""

    def __init__(
        self, limit: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event; None if allowed, else the seconds until the next one would be."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque()
                if len(self._events) > MAX_KEYS:
                    # Forget the least recently seen key rather than grow without bound.
                    self._events.popitem(last=False)
            else:
                self._events.move_to_end(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.0, events[0] + self.window - now)
            events.append(now)
            return None

    def forget(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


@dataclass
class RateLimits:
    messages: RateLimiter
    starts: RateLimiter
    logins: RateLimiter


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
