"""In-memory sliding-window rate limits (per conversation, per service, per client), thread-safe.

Kept in the process because the service runs as one process; keys are conversation ids, a fixed
name, or for guessing pickup codes and passwords a per-client key: a keyed hash of the client's
address under a random key made when the process starts (`client_key`); `LoginGuard` keys
usernames the same way. The address itself is never kept,
never logged and never written anywhere; the key is forgotten on restart, so the hashes cannot
be linked to an address or across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
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

    def refund(self, key: str) -> None:
        """Give back the newest event of `key` (an attempt that stored nothing)."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()

    def forget(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


@dataclass
class RateLimits:
    messages: RateLimiter
    starts: RateLimiter
    logins: LoginGuard
    pickups: RateLimiter = field(default_factory=lambda: RateLimiter(PICKUPS_PER_MINUTE))
    pickup_clients: RateLimiter = field(
        default_factory=lambda: RateLimiter(PICKUPS_PER_CLIENT, PICKUP_CLIENT_WINDOW_SECONDS)
    )
    typing: RateLimiter = field(default_factory=lambda: RateLimiter(1, TYPING_WINDOW_SECONDS))


def client_key(request: Request) -> str:
    """An in-memory key for one client: a keyed hash of its address, never the address.

    An IPv6 client counts as its /64 network: one household or phone gets a whole /64 and can
    pick a new address in it for every request.
    """
    address = request.client.host if request.client else ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        pass
    else:
        if parsed.version == 6 and parsed.ipv4_mapped is None:
            address = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return _keyed_hash(address)


def _keyed_hash(value: str) -> str:
    return hmac.new(_CLIENT_KEY_SECRET, value.encode(), hashlib.sha256).hexdigest()[:32]


# Login guessing (docs/reliability.md, "Login that strangers cannot block"). The first
# FREE_LOGIN_FAILURES wrong passwords from one client for one username cost nothing; each one
# after that makes that client wait, FIRST_LOGIN_DELAY_SECONDS doubling up to
# MAX_LOGIN_DELAY_SECONDS. Other clients, the counsellor's own among them, are not affected.
FREE_LOGIN_FAILURES = 5
FIRST_LOGIN_DELAY_SECONDS = 15.0
MAX_LOGIN_DELAY_SECONDS = 900.0
# A client's failures for a username are forgotten this long after its last one.
FORGET_LOGIN_FAILURES_SECONDS = 3600.0
# The service-wide ceiling counts failures in this window.
LOGIN_CEILING_WINDOW_SECONDS = 60.0
MAX_LOGIN_ACCOUNTS = 10_000
MAX_CLIENTS_PER_ACCOUNT = 1_000


def login_delay(failures: int) -> float:
    """How long a client waits after its `failures`-th wrong password for one username."""
    if failures < FREE_LOGIN_FAILURES:
        return 0.0
    return min(
        MAX_LOGIN_DELAY_SECONDS,
        FIRST_LOGIN_DELAY_SECONDS * 2 ** (failures - FREE_LOGIN_FAILURES),
    )


@dataclass
class _ClientFailures:
    count: int = 0
    last: float = 0.0
    delayed_until: float = 0.0


@dataclass
class _Account:
    clients: OrderedDict[str, _ClientFailures] = field(default_factory=OrderedDict)
    delayed_until: float = 0.0  # the latest delay of any client, to skip `lift` when none


@dataclass
class LoginRefusal:
    reason: str  # "client": this client waits for this username; "service": the ceiling
    retry_after: float


@dataclass
class LoginAttempt:
    """One attempt let through; counted as a failure until `LoginGuard.succeeded` says not."""

    account: str
    client: str
    at: float
    delay: float  # the wait this attempt imposes on its client if it fails (0 for most)


class LoginGuard:
    """Wrong passwords counted per (username, client), in memory only, as keyed hashes.

    Never a hard lock: a client that has not failed for a username is always let through to the
    password check, so nobody can lock a named counsellor out; the client that guesses waits
    longer and longer. Above `failures_per_minute` failed logins on the whole service, only
    clients with a failure in the last minute are turned away before the (costly) password
    check, so a flood of guesses cannot close the login for everybody either.

    An attempt is counted as a failure before the password is checked and taken back if it was
    right, so a burst of parallel guesses cannot slip past the count.
    """

    def __init__(
        self, failures_per_minute: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures_per_minute = failures_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._accounts: OrderedDict[str, _Account] = OrderedDict()
        self._failures: deque[float] = deque()  # service-wide, in the window
        self._client_failures: OrderedDict[str, float] = OrderedDict()  # client -> last failure

    def begin(self, username: str, client: str) -> LoginAttempt | LoginRefusal:
        now = self._clock()
        account_key = _keyed_hash("login:" + username)
        with self._lock:
            self._expire(now)
            account = self._accounts.get(account_key)
            failures = account.clients.get(client) if account else None
            if failures is not None and failures.delayed_until > now:
                return LoginRefusal("client", failures.delayed_until - now)
            last_failure = self._client_failures.get(client)
            if (
                len(self._failures) >= self.failures_per_minute
                and last_failure is not None
                and last_failure > now - LOGIN_CEILING_WINDOW_SECONDS
            ):
                # Turned away until this client's last failure has left the window.
                wait = last_failure + LOGIN_CEILING_WINDOW_SECONDS - now
                return LoginRefusal("service", max(1.0, wait))
            # Counted as a failure now; `succeeded` takes it back.
            if account is None:
                account = self._accounts[account_key] = _Account()
                if len(self._accounts) > MAX_LOGIN_ACCOUNTS:
                    self._accounts.popitem(last=False)
            else:
                self._accounts.move_to_end(account_key)
            if failures is None:
                failures = account.clients[client] = _ClientFailures()
                if len(account.clients) > MAX_CLIENTS_PER_ACCOUNT:
                    account.clients.popitem(last=False)
            else:
                account.clients.move_to_end(client)
            failures.count += 1
            failures.last = now
            delay = login_delay(failures.count)
            if delay:
                failures.delayed_until = now + delay
                account.delayed_until = max(account.delayed_until, failures.delayed_until)
            self._failures.append(now)
            self._client_failures[client] = now
            self._client_failures.move_to_end(client)
            if len(self._client_failures) > MAX_KEYS:
                self._client_failures.popitem(last=False)
            return LoginAttempt(account_key, client, now, delay)

    def succeeded(self, attempt: LoginAttempt) -> None:
        """The password was right: this client starts afresh for this username."""
        with self._lock:
            account = self._accounts.get(attempt.account)
            if account is not None:
                account.clients.pop(attempt.client, None)
            try:
                self._failures.remove(attempt.at)
            except ValueError:
                pass
            if self._client_failures.get(attempt.client) == attempt.at:
                del self._client_failures[attempt.client]

    def lift(self, username: str) -> None:
        """An admin unlocked the account: every client waiting on it may try again at once."""
        now = self._clock()
        with self._lock:
            account = self._accounts.get(_keyed_hash("login:" + username))
            if account is None or account.delayed_until <= now:
                return
            for failures in account.clients.values():
                if failures.delayed_until > now:
                    failures.count = 0
                    failures.delayed_until = 0.0
            account.delayed_until = 0.0

    def _expire(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - LOGIN_CEILING_WINDOW_SECONDS:
            self._failures.popleft()
        while self._client_failures:
            client, last = next(iter(self._client_failures.items()))
            if last > now - LOGIN_CEILING_WINDOW_SECONDS:
                break
            del self._client_failures[client]
        forget_before = now - FORGET_LOGIN_FAILURES_SECONDS
        while self._accounts:
            key, account = next(iter(self._accounts.items()))
            while account.clients:
                client, failures = next(iter(account.clients.items()))
                if failures.last > forget_before or failures.delayed_until > now:
                    break
                del account.clients[client]
            if account.clients:
                break
            del self._accounts[key]


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
