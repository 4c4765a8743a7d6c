"""Events between service processes over PostgreSQL LISTEN/NOTIFY (issue #18).

Every process keeps its own in-process broker (handoff_service/events.py) for the streams it
holds. What one process publishes, the others must hear: a counsellor's reply written on process
A goes to the young person whose stream is open on process B. This module is the bridge, used
only when the database is PostgreSQL (on SQLite, the embedded single-process default, the
broker alone is enough):

* ``send`` — after the change is committed, the broker hands the events it published to the
  bus, which sends them as one ``pg_notify('handoff_events', …)`` per batch of at most
  ``MAX_PAYLOAD`` bytes (PostgreSQL refuses payloads of 8,000 bytes or more). A message whose
  text would not fit goes as its id, and the receiver reads it from the database.
* Positions are derived state and are never sent: a queue change goes as one small
  ``queue_changed`` notice, and every other process recomputes the positions of its own
  streams from the database (``on_queue_changed``). 2,000 waiting young people cost one notice,
  not 2,000.
* ``listen`` runs in a daemon thread on its own autocommit connection. NOTIFY has no replay: a
  process that loses the connection reconnects (backoff up to ``MAX_BACKOFF`` s) and then
  recomputes every position once, so a missed notice only delays what a young person sees,
  never corrupts it; their page re-fetches the conversation whenever its stream reconnects.

Why PostgreSQL and not Redis pub/sub: the service already depends on PostgreSQL in production,
the notice is sent after the commit it announces from the same database, and the measured cost
(docs/performance.md, "Several processes") is well inside the goal; Redis pub/sub is also
at-most-once, so it would add a server without adding a guarantee.

Never logged: payloads (they may hold message text), only counts and error types.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

logger = logging.getLogger(__name__)

CHANNEL = "handoff_events"
MAX_PAYLOAD = 7_500  # bytes; PostgreSQL's limit is 8,000
MAX_BACKOFF = 5.0
Event = tuple[str, str, dict[str, Any]]
_STOP = object()


def _libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _encode(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)


class PgEventBus:
    """One process's end of the bridge (see the module docstring)."""

    def __init__(
        self,
        database_url: str,
        deliver: Callable[[list[Event]], None],
        on_queue_changed: Callable[[str], None],
        load_message: Callable[[str, int], dict[str, Any] | None],
    ) -> None:
        self.url = _libpq_url(database_url)
        self.origin = uuid.uuid4().hex[:12]
        self._deliver = deliver
        self._on_queue_changed = on_queue_changed
        self._load_message = load_message
        self._send_lock = threading.Lock()
        self._sender: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sender_thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.sent = self.received = 0

    # -- sending ---------------------------------------------------------------------------

    def _payloads(self, kind: str, events: list[Event]) -> list[str]:
        """The notices for `events`, each under MAX_PAYLOAD bytes."""
        payloads: list[str] = []
        batch: list[list[Any]] = []

        def flush() -> None:
            if batch:
                payloads.append(_encode({"o": self.origin, "k": kind, "e": list(batch)}))
                batch.clear()

        for channel, event, data in events:
            item = [channel, event, data]
            alone = _encode({"o": self.origin, "k": kind, "e": [item]})
            if len(alone.encode()) > MAX_PAYLOAD:
                if event == "message" and "id" in data:
                    flush()
                    conversation_id = channel.removeprefix("conversation:")
                    payloads.append(
                        _encode(
                            {
                                "o": self.origin,
                                "k": "message",
                                "c": conversation_id,
                                "id": data["id"],
                            }
                        )
                    )
                else:
                    logger.warning("cluster event %s too large to send; dropped", event)
                continue
            candidate = _encode({"o": self.origin, "k": kind, "e": [*batch, item]})
            if len(candidate.encode()) > MAX_PAYLOAD:
                flush()
            batch.append(item)
        flush()
        return payloads

    def _notify(self, payloads: list[str]) -> None:
        if not payloads:
            return
        with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = psycopg.connect(self.url, autocommit=True)
                    with self._sender.cursor() as cursor:
                        for payload in payloads:
                            cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    self.sent += len(payloads)
                    return
                except psycopg.Error as error:
                    self._sender = None
                    if attempt == 2:
                        # The change is committed: the other processes' streams catch up on
                        # their next queue change or when the page reconnects.
                        logger.warning("cluster notify failed: %s", type(error).__name__)

    def send_events(self, events: list[Event]) -> None:
        """Queue `events` for the other processes; never blocks the request that published."""
        self._outbox.put(("events", list(events)))

    def send_queue_changed(self, reason: str) -> None:
        self._outbox.put(("queue", reason))

    def _send_loop(self) -> None:
        """Drain the outbox: everything waiting goes in as few notices as fit, in order, and
        several queue changes in one burst as one notice."""
        while True:
            first = self._outbox.get()
            items = [first]
            while True:
                try:
                    items.append(self._outbox.get_nowait())
                except queue.Empty:
                    break
            stopping = any(item is _STOP for item in items)
            events: list[Event] = []
            reason: str | None = None
            for item in items:
                if item is _STOP:
                    continue
                kind, body = item
                if kind == "events":
                    events.extend(body)
                else:
                    reason = body
            payloads = self._payloads("events", events)
            if reason is not None:
                payloads.append(_encode({"o": self.origin, "k": "queue_changed", "r": reason}))
            self._notify(payloads)
            if stopping:
                return

    # -- listening -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="cluster-events", daemon=True)
        self._thread.start()
        self._sender_thread = threading.Thread(
            target=self._send_loop, name="cluster-events-send", daemon=True
        )
        self._sender_thread.start()

    def stop(self) -> None:
        self._outbox.put(_STOP)
        if self._sender_thread is not None:
            self._sender_thread.join(timeout=3)
        self._stop.set()
        if self._thread is not None:
            # A daemon thread that leaves within its 0.5 s poll; no need to hold the shutdown.
            self._thread.join(timeout=0.1)
        with self._send_lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None

    def _listen(self) -> None:
        backoff = 0.2
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:
                        # Notices sent while we were away are lost: recompute once.
                        self._safely(self._on_queue_changed, "reconnect")
                    first, backoff = False, 0.2
                    while not self._stop.is_set():
                        # The first notice at once, then whatever else is already there (a
                        # burst is handled as one, its queue changes as one recompute).
                        notices = list(connection.notifies(timeout=0.5, stop_after=1))
                        if notices:
                            notices += connection.notifies(timeout=0.001, stop_after=200)
                            self._handle([n.payload for n in notices])
            except psycopg.Error as error:
                self.listening.clear()
                logger.warning("cluster listener lost its connection: %s", type(error).__name__)
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)

    def _handle(self, payloads: list[str]) -> None:
        events: list[Event] = []
        queue_reason: str | None = None
        for payload in payloads:
            try:
                body = json.loads(payload)
            except ValueError:
                continue
            if body.get("o") == self.origin:
                continue
            self.received += 1
            kind = body.get("k")
            if kind == "events":
                events.extend((str(c), str(e), d) for c, e, d in body.get("e", ()))
            elif kind == "message":
                loaded = self._safely(self._load_message, str(body.get("c")), int(body.get("id")))
                if loaded is not None:
                    events.append((f"conversation:{body.get('c')}", "message", loaded))
            elif kind == "queue_changed":
                queue_reason = str(body.get("r") or "queue")
        if events:
            self._deliver(events)
        if queue_reason is not None:
            # Many changes in one burst: one recompute for all of them.
            self._safely(self._on_queue_changed, queue_reason)

    @staticmethod
    def _safely(job: Callable[..., Any], *args: Any) -> Any:
        try:
            return job(*args)
        except Exception as error:  # noqa: BLE001 - the listener must keep listening
            logger.warning("cluster event handling failed: %s", type(error).__name__)
            return None


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    """For tests and start-up: poll `predicate` until true or `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def install(app: Any) -> PgEventBus | None:
    """Bridge this app's broker to the other processes when the database is PostgreSQL."""
    settings = app.state.settings
    if not settings.database_url.startswith("postgresql"):
        return None
    from handoff_service.db import utcnow
    from handoff_service.models import Message
    from handoff_service.notify import publish_queue_changed
    from handoff_service.views import message_out

    broker = app.state.broker
    factory = app.state.session_factory

    def recompute(reason: str) -> None:
        with factory() as session:
            # The dashboards heard the change from its own process; the streams need places.
            publish_queue_changed(
                broker, session, settings, utcnow(), reason=reason, announce=False, dashboard=False
            )

    def load_message(conversation_id: str, message_id: int) -> dict[str, Any] | None:
        with factory() as session:
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation_id:
                return None
            return message_out(message).model_dump(mode="json")

    bus = PgEventBus(
        settings.database_url,
        deliver=lambda events: broker.publish_many(events, local_only=True),
        on_queue_changed=recompute,
        load_message=load_message,
    )
    broker.relay = bus.send_events
    broker.queue_relay = bus.send_queue_changed
    bus.start()
    return bus
