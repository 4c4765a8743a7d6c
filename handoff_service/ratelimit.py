"""In-memory sliding-window rate limits (per conversation, per service, per client), thread-safe.

Kept in the process because the service runs as one process; keys are conversation ids, a fixed
name, or for guessing pickup codes a per-client key: a keyed hash of the client's address under
a random key made when the process starts (`client_key`). The address itself is never kept,
never logged and never written anywhere; the key is forgotten on restart, so the hashes cannot
be linked to an address or across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

MAX_KEYS = 50_000
# Guessing pickup codes: a whole-service ceiling (many clients at once) and a per-client one
# (someone trying code after code). A person who mistypes a few times is never stopped.
PICKUPS_PER_MINUTE = 60
PICKUPS_PER_CLIENT = 10
PICKUP_CLIENT_WINDOW_SECONDS = 600.0
# Typing signals: the pages send at most one per 3 s; the service relays at most one per 2 s
# for each side of a conversation.
TYPING_WINDOW_SECONDS = 2.0
_CLIENT_KEY_SECRET = secrets.token_bytes(32)


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
    pickups: RateLimiter = field(default_factory=lambda: RateLimiter(PICKUPS_PER_MINUTE))
    pickup_clients: RateLimiter = field(
        default_factory=lambda: RateLimiter(PICKUPS_PER_CLIENT, PICKUP_CLIENT_WINDOW_SECONDS)
    )
    typing: RateLimiter = field(default_factory=lambda: RateLimiter(1, TYPING_WINDOW_SECONDS))


def client_key(request: Request) -> str:
    """An in-memory key for one client: a keyed hash of its address, never the address."""
    address = request.client.host if request.client else ""
    return hmac.new(_CLIENT_KEY_SECRET, address.encode(), hashlib.sha256).hexdigest()[:32]


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
