"""Sliding-window rate limits (per conversation, per service, per client) and the login guard.

Two stores with the same behaviour. Under SQLite (the embedded default, one service process) the
counts live in this process's memory, thread-safe. Under PostgreSQL every service process counts
in the same table (`rate_counters`, handoff_service/rate_counters.py): one atomic
``INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING`` per hit, so two processes behind a balancer
share every limit instead of doubling it (docs/performance.md, "Rate limits across processes").
If that table cannot be reached a shared limiter fails open to this process's memory: a young
person's message is never refused or lost because the counter store failed, and a login is
still guarded, per process, as before.

Keys are conversation ids, a fixed name, or for guessing pickup codes and passwords a
per-client key: a keyed hash of the client's address (`client_key`); the login guard keys
usernames the same way. The address itself is never kept, never logged and never written
anywhere. With one process the hash key is random, made when the process starts and forgotten
on restart; with the shared store it is derived from SECRET_KEY and the day (`SharedKey`), so
every process computes the same hash, the table never holds an address or a username, and
hashes of one day cannot be linked to another day's. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine, TextClause, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

if TYPE_CHECKING:
    from handoff_service.config import Settings

logger = logging.getLogger("handoff_service.ratelimit")

MAX_KEYS = 50_000
# Guessing pickup codes: a whole-service ceiling (many clients at once) and a per-client one
# (someone trying code after code). A person who mistypes a few times is never stopped.
PICKUPS_PER_MINUTE = 60
PICKUPS_PER_CLIENT = 10
PICKUP_CLIENT_WINDOW_SECONDS = 600.0
# Typing signals: the pages send at most one per 3 s; the service relays at most one per 2 s
# for each side of a conversation.
TYPING_WINDOW_SECONDS = 2.0
# The shared store: after a failure this process counts in its own memory for this long before
# it tries the table again, so an outage costs one slow hit, not one per request.
STORE_RETRY_SECONDS = 5.0
# Rows whose window is over are deleted by a hit at most this often per process.
CLEANUP_SECONDS = 60.0
# The day's key for client and username hashes in the shared store (`SharedKey`).
KEY_PERIOD_SECONDS = 86_400


class Limiter(Protocol):
    """At most `limit` events per `window_seconds` for each key (memory or shared store)."""

    limit: int
    window: float

    def hit(self, key: str) -> float | None: ...

    def refund(self, key: str) -> None: ...

    def forget(self, key: str) -> None: ...


class KeyHasher(Protocol):
    def hash(self, value: str) -> str: ...


class ProcessKey:
    """Keyed hashes under a random key made when the process starts (one process: no sharing)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def hash(self, value: str) -> str:
        return hmac.new(self._secret, value.encode(), hashlib.sha256).hexdigest()[:32]


class SharedKey:
    """Keyed hashes every service process computes alike: the key is derived from SECRET_KEY and
    the current UTC day, so a hash in the table cannot be linked to an address without the
    secret, nor to the same address on another day. At midnight every count keyed by a client
    starts afresh (as a restart of a single process did)."""

    def __init__(self, secret_key: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret_key.encode()
        self._clock = clock
        self._period = -1
        self._key = b""

    def hash(self, value: str) -> str:
        period = int(self._clock() // KEY_PERIOD_SECONDS)
        if period != self._period:
            label = f"ung-chat rate-limit keys {period}".encode()
            self._key = hmac.new(self._secret, label, hashlib.sha256).digest()
            self._period = period
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:32]


PROCESS_KEY = ProcessKey()


class RateLimiter:
    """At most `limit` events per `window_seconds` for each key, in this process's memory."""

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


class StoreUnavailable(Exception):
    """The shared table could not be used; the caller counts in memory instead."""


class CounterStore:
    """The `rate_counters` table on the service's PostgreSQL, through a small pool of its own.

    Every statement runs on its own in autocommit (a row is locked only for that statement, and
    the count is visible to every process at once), with short timeouts and without waiting for
    the WAL (`synchronous_commit=off`; the table is UNLOGGED anyway): a lost count after a crash
    is harmless. Times come from the database's clock, so processes on different hosts agree;
    tests may give a clock of their own (seconds).
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] | None = None) -> None:
        self.engine = engine
        self._clock = clock
        self.now_sql = (
            "CAST(:now AS double precision)"
            if clock is not None
            else "CAST(extract(epoch FROM statement_timestamp()) AS double precision)"
        )
        self._statements: dict[str, TextClause] = {}
        self._retry_at = 0.0
        self._next_cleanup = 0.0

    @classmethod
    def beside(
        cls, engine: Engine, clock: Callable[[], float] | None = None, pool_size: int = 2
    ) -> CounterStore:
        """A store on `engine`'s database with a pool of its own (a request that holds one of
        the service's connections never waits for a second one from the same pool), disposed
        when `engine` is."""
        own = create_engine(
            engine.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=0.5,
            pool_reset_on_return=None,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": 2,
                "application_name": "handoff-rate-limits",
                "options": (
                    "-c statement_timeout=1000 -c lock_timeout=500 -c synchronous_commit=off"
                ),
            },
        )
        event.listen(engine, "engine_disposed", lambda _engine: own.dispose())
        return cls(own, clock)

    def execute(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement; StoreUnavailable if the table cannot be used right now."""
        if time.monotonic() < self._retry_at:
            raise StoreUnavailable
        statement = self._statement(sql)
        if self._clock is not None:
            params = {**params, "now": self._clock()}
        try:
            with self.engine.connect() as connection:
                result = connection.execute(statement, params)
                rows = [tuple(row) for row in result] if result.returns_rows else []
                if time.monotonic() >= self._next_cleanup:
                    self._next_cleanup = time.monotonic() + CLEANUP_SECONDS
                    self._cleanup(connection)
        except SQLAlchemyError as error:
            self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
            # The type only: a driver's message can quote the statement's parameters (keys).
            logger.warning(
                "rate-limit store unavailable (%s); counting in this process for %.0f s",
                type(error).__name__,
                STORE_RETRY_SECONDS,
            )
            raise StoreUnavailable from None
        return rows

    def _statement(self, sql: str) -> TextClause:
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = text(sql.replace("{now}", self.now_sql))
        return statement

    def _cleanup(self, connection: Connection) -> None:
        params = {"now": self._clock()} if self._clock is not None else {}
        connection.execute(self._statement(_CLEANUP), params)


# A row keeps the newest `limit` hits, oldest first ({now}: the store's clock; c: the row as it
# was). A hit is refused exactly when the limit-th newest is still inside the window, as when
# the memory limiter holds `limit` live events; it then waits until that one leaves.
_NTH = "c.hits[cardinality(c.hits) - :limit + 1]"
_FULL = f"cardinality(c.hits) >= :limit AND {_NTH} > {{now}} - :window"
# One hit, one statement: the row is created, or the hit is appended (the oldest beyond `limit`
# dropped); a refused hit returns when it may come again (blocked_until), an allowed one NULL.
_HIT = f"""
INSERT INTO rate_counters AS c (key, hits, failures, blocked_until, expires_at)
VALUES (:key, ARRAY[{{now}}], 0, NULL, {{now}} + :window)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN {_FULL} THEN c.hits
        ELSE (c.hits || {{now}})[GREATEST(1, cardinality(c.hits) + 2 - :limit):] END,
    blocked_until = CASE WHEN {_FULL} THEN {_NTH} + :window END,
    expires_at = CASE WHEN {_FULL} THEN c.expires_at
        ELSE GREATEST(c.expires_at, {{now}} + :window) END
RETURNING blocked_until, {{now}} AS now
"""  # noqa: S608 - module constants; values are bound
_REFUND = """
UPDATE rate_counters SET hits = hits[1:cardinality(hits) - 1]
WHERE key = :key AND cardinality(hits) > 0
"""
_FORGET = "DELETE FROM rate_counters WHERE key = :key"
_CLEANUP = "DELETE FROM rate_counters WHERE expires_at < {now}"


class SharedRateLimiter:
    """`RateLimiter`'s sliding window, counted in the shared table (one statement per hit).

    The same answers as the memory limiter: at most `limit` hits in any `window_seconds`, and a
    refused hit waits until the oldest counted one leaves the window. If the table cannot be
    used the hit is counted in this process's memory instead (never refused for that reason).
    """

    def __init__(
        self, store: CounterStore, scope: str, limit: int, window_seconds: float = 60.0
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._store = store
        self._scope = scope
        self._local = RateLimiter(limit, window_seconds)

    def _key(self, key: str) -> str:
        return f"{self._scope}:{key}"

    def hit(self, key: str) -> float | None:
        params = {"key": self._key(key), "limit": self.limit, "window": self.window}
        try:
            rows = self._store.execute(_HIT, params)
        except StoreUnavailable:
            return self._local.hit(key)
        blocked_until, now = rows[0]
        return None if blocked_until is None else max(0.0, blocked_until - now)

    def refund(self, key: str) -> None:
        try:
            self._store.execute(_REFUND, {"key": self._key(key)})
        except StoreUnavailable:
            self._local.refund(key)

    def forget(self, key: str) -> None:
        self._local.forget(key)
        try:
            self._store.execute(_FORGET, {"key": self._key(key)})
        except StoreUnavailable:
            pass


@dataclass
class RateLimits:
    messages: Limiter
    starts: Limiter
    logins: Guard
    pickups: Limiter = field(default_factory=lambda: RateLimiter(PICKUPS_PER_MINUTE))
    pickup_clients: Limiter = field(
        default_factory=lambda: RateLimiter(PICKUPS_PER_CLIENT, PICKUP_CLIENT_WINDOW_SECONDS)
    )
    # Typing signals stay in each process's memory (one relay per 2 s per side and process):
    # they are no protection, only a brake, and come every 3 s while someone types.
    typing: Limiter = field(default_factory=lambda: RateLimiter(1, TYPING_WINDOW_SECONDS))
    hasher: KeyHasher = field(default_factory=lambda: PROCESS_KEY)

    def client_key(self, request: Request) -> str:
        return client_key(request, self.hasher)


def make_rate_limits(settings: Settings, engine: Engine) -> RateLimits:
    """Memory limits under SQLite (one process); under PostgreSQL the shared table for every
    limit that guards something (messages, new conversations, pickup codes, logins)."""
    if engine.dialect.name != "postgresql":
        return RateLimits(
            messages=RateLimiter(settings.messages_per_minute),
            starts=RateLimiter(settings.conversation_starts_per_minute),
            logins=LoginGuard(settings.login_attempts_per_minute),
        )
    store = CounterStore.beside(engine)
    hasher = SharedKey(settings.secret_key)
    return RateLimits(
        messages=SharedRateLimiter(store, "messages", settings.messages_per_minute),
        starts=SharedRateLimiter(store, "starts", settings.conversation_starts_per_minute),
        logins=SharedLoginGuard(store, settings.login_attempts_per_minute, hasher),
        pickups=SharedRateLimiter(store, "pickups", PICKUPS_PER_MINUTE),
        pickup_clients=SharedRateLimiter(
            store, "pickup_clients", PICKUPS_PER_CLIENT, PICKUP_CLIENT_WINDOW_SECONDS
        ),
        hasher=hasher,
    )


def client_key(request: Request, hasher: KeyHasher = PROCESS_KEY) -> str:
    """A key for one client: a keyed hash of its address, never the address.

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
    return hasher.hash(address)


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
    shared: bool = False  # counted in the shared table (else in this process's memory)


class Guard(Protocol):
    def begin(self, username: str, client: str) -> LoginAttempt | LoginRefusal: ...

    def succeeded(self, attempt: LoginAttempt) -> None: ...

    def lift(self, username: str) -> None: ...


class LoginGuard:
    """Wrong passwords counted per (username, client), in this process's memory, as keyed hashes.

    Never a hard lock: a client that has not failed for a username is always let through to the
    password check, so nobody can lock a named counsellor out; the client that guesses waits
    longer and longer. Above `failures_per_minute` failed logins on the whole service, only
    clients with a failure in the last minute are turned away before the (costly) password
    check, so a flood of guesses cannot close the login for everybody either.

    An attempt is counted as a failure before the password is checked and taken back if it was
    right, so a burst of parallel guesses cannot slip past the count.
    """

    def __init__(
        self,
        failures_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        hasher: KeyHasher = PROCESS_KEY,
    ) -> None:
        self.failures_per_minute = failures_per_minute
        self._clock = clock
        self._hasher = hasher
        self._lock = threading.Lock()
        self._accounts: OrderedDict[str, _Account] = OrderedDict()
        self._failures: deque[float] = deque()  # service-wide, in the window
        self._client_failures: OrderedDict[str, float] = OrderedDict()  # client -> last failure

    def begin(self, username: str, client: str) -> LoginAttempt | LoginRefusal:
        now = self._clock()
        account_key = self._hasher.hash("login:" + username)
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
            account = self._accounts.get(self._hasher.hash("login:" + username))
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


# The shared login guard's rows: per (username, client) the failures and the wait; per client
# its last failure (for the ceiling); per username the latest wait of any client (so `lift` has
# work only after an admin's unlock); the service's newest failures (as many as the ceiling).
_LOGIN_LOOK = """
SELECT {now} AS now,
    (SELECT blocked_until FROM rate_counters WHERE key = :pair) AS pair_blocked,
    (SELECT cardinality(hits) >= :ceiling
            AND hits[cardinality(hits) - :ceiling + 1] > {now} - :window
        FROM rate_counters WHERE key = :service) AS ceiling_reached,
    (SELECT blocked_until FROM rate_counters
        WHERE key = :client AND blocked_until > {now} - :window) AS client_last
"""


def _login_wait(failures: str) -> str:
    """SQL for the end of the wait after the `failures`-th failure (NULL: no wait); as
    `login_delay`."""
    return (
        f"CASE WHEN {failures} >= :free THEN {{now}} + LEAST(CAST(:max_delay AS double precision),"
        f" :first_delay * power(2, LEAST({failures}, 64) - :free)) END"
    )


_FAILURES = "CASE WHEN c.expires_at <= {now} THEN 1 ELSE c.failures + 1 END"
# Counted before the password check: the (username, client) row only if that client is not
# waiting (checked in the same statement, so parallel guesses cannot slip past), and with it the
# service's failures (the newest :ceiling kept), the client's last failure, the username's wait.
_LOGIN_COUNT = f"""
WITH pair AS (
    INSERT INTO rate_counters AS c (key, hits, failures, blocked_until, expires_at)
    VALUES (:pair, CAST(ARRAY[] AS double precision[]), 1, {_login_wait("1")},
        GREATEST({{now}} + :forget, {_login_wait("1")}))
    ON CONFLICT (key) DO UPDATE SET
        failures = {_FAILURES},
        blocked_until = {_login_wait(_FAILURES)},
        expires_at = GREATEST({{now}} + :forget, {_login_wait(_FAILURES)})
    WHERE c.blocked_until IS NULL OR c.blocked_until <= {{now}}
    RETURNING c.failures, c.blocked_until
), service AS (
    INSERT INTO rate_counters AS c (key, hits, failures, blocked_until, expires_at)
    SELECT :service, ARRAY[{{now}}], 0, NULL, {{now}} + :window FROM pair
    ON CONFLICT (key) DO UPDATE SET
        hits = (c.hits || {{now}})[GREATEST(1, cardinality(c.hits) + 2 - :ceiling):],
        expires_at = {{now}} + :window
), client AS (
    INSERT INTO rate_counters AS c (key, hits, failures, blocked_until, expires_at)
    SELECT :client, CAST(ARRAY[] AS double precision[]), 0, {{now}}, {{now}} + :window FROM pair
    ON CONFLICT (key) DO UPDATE SET
        blocked_until = excluded.blocked_until, expires_at = excluded.expires_at
), account AS (
    INSERT INTO rate_counters AS c (key, hits, failures, blocked_until, expires_at)
    SELECT :account, CAST(ARRAY[] AS double precision[]), 0, blocked_until, blocked_until
    FROM pair WHERE blocked_until IS NOT NULL
    ON CONFLICT (key) DO UPDATE SET
        blocked_until = GREATEST(c.blocked_until, excluded.blocked_until),
        expires_at = GREATEST(c.expires_at, excluded.expires_at)
)
SELECT failures, {{now}} AS now FROM pair
"""  # noqa: S608 - module constants; values are bound
_AT = "array_position(hits, CAST(:at AS double precision))"
_LOGIN_SUCCEEDED = f"""
WITH pair AS (
    DELETE FROM rate_counters WHERE key = :pair
), service AS (
    UPDATE rate_counters SET hits = hits[1:{_AT} - 1] || hits[{_AT} + 1:]
    WHERE key = :service AND {_AT} IS NOT NULL
)
DELETE FROM rate_counters WHERE key = :client AND blocked_until = CAST(:at AS double precision)
"""  # noqa: S608 - module constants; values are bound
_LOGIN_WAITING = """
SELECT 1 FROM rate_counters WHERE key = :account AND blocked_until > {now}
"""
_LOGIN_LIFT = """
WITH pairs AS (
    UPDATE rate_counters SET failures = 0, blocked_until = NULL
    WHERE key LIKE :pairs AND blocked_until > {now}
)
UPDATE rate_counters SET blocked_until = NULL WHERE key = :account
"""


class SharedLoginGuard:
    """`LoginGuard` with its counts in the shared table, so every service process applies the
    same waits and the same ceiling; the same answers (and the same Danish refusals at the route).

    Two statements per attempt (a look, then the count), a third after a right password; the
    count checks again that the client is not waiting, atomically on its row. If the table
    cannot be used, the attempt is guarded by this process's memory as with one process (never
    waved through, never refused for that reason).
    """

    def __init__(
        self, store: CounterStore, failures_per_minute: int, hasher: KeyHasher = PROCESS_KEY
    ) -> None:
        self.failures_per_minute = failures_per_minute
        self._store = store
        self._hasher = hasher
        self._local = LoginGuard(failures_per_minute, hasher=hasher)

    def _keys(self, account: str, client: str) -> dict[str, str]:
        return {
            "pair": f"login:{account}:{client}",
            "service": "login_failures",
            "client": f"login_client:{client}",
            "account": f"login_account:{account}",
        }

    def begin(self, username: str, client: str) -> LoginAttempt | LoginRefusal:
        account = self._hasher.hash("login:" + username)
        keys = self._keys(account, client)
        window = {"window": LOGIN_CEILING_WINDOW_SECONDS, "ceiling": self.failures_per_minute}
        try:
            look = self._store.execute(_LOGIN_LOOK, {**keys, **window})[0]
            now, pair_blocked, ceiling_reached, client_last = look
            if pair_blocked is not None and pair_blocked > now:
                return LoginRefusal("client", pair_blocked - now)
            if ceiling_reached and client_last is not None:
                # Turned away until this client's last failure has left the window.
                wait = client_last + LOGIN_CEILING_WINDOW_SECONDS - now
                return LoginRefusal("service", max(1.0, wait))
            counted = self._store.execute(
                _LOGIN_COUNT,
                {
                    **keys,
                    **window,
                    "forget": FORGET_LOGIN_FAILURES_SECONDS,
                    "free": FREE_LOGIN_FAILURES,
                    "first_delay": FIRST_LOGIN_DELAY_SECONDS,
                    "max_delay": MAX_LOGIN_DELAY_SECONDS,
                },
            )
            if not counted:
                # Another attempt of this client made it wait since the look.
                look = self._store.execute(_LOGIN_LOOK, {**keys, **window})[0]
                now, pair_blocked = look[0], look[1]
                return LoginRefusal("client", max(0.0, (pair_blocked or now) - now))
        except StoreUnavailable:
            return self._local.begin(username, client)
        failures, at = counted[0]
        return LoginAttempt(account, client, at, login_delay(failures), shared=True)

    def succeeded(self, attempt: LoginAttempt) -> None:
        if not attempt.shared:
            self._local.succeeded(attempt)
            return
        try:
            self._store.execute(
                _LOGIN_SUCCEEDED, {**self._keys(attempt.account, attempt.client), "at": attempt.at}
            )
        except StoreUnavailable:
            pass

    def lift(self, username: str) -> None:
        account = self._hasher.hash("login:" + username)
        self._local.lift(username)
        try:
            if self._store.execute(_LOGIN_WAITING, {"account": f"login_account:{account}"}):
                self._store.execute(
                    _LOGIN_LIFT,
                    {"pairs": f"login:{account}:%", "account": f"login_account:{account}"},
                )
        except StoreUnavailable:
            pass


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
