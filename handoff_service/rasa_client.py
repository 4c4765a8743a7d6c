"""Relays a young person's message to Rasa's REST channel and returns the bot's replies.

Each reply is one bot line with the titles of its buttons (quick replies), if it has any. Rasa's
REST channel answers `[{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}, ...]`;
the page sends a button's title as the young person's own message, so only titles are kept.

The action server adds one item of its own to every turn it plans: ``{"custom": {"nlu": {...}}}``
(intent, confidence, the top of the ranking, whether the safety net lifted the intent and
whether the bot answered with its bare fallback; no text). It is never shown: :func:`bot_reply`
keeps it beside the lines, for the trainer's inbox (handoff_service/trainer_inbox.py).

A crisis never waits long for Rasa: calls have a short timeout, and a circuit breaker skips Rasa
at once after a run of failures, so a hung Rasa costs one timeout, not one per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

MAX_QUICK_REPLIES = 6
MAX_QUICK_REPLY_CHARS = 80


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer in time."""


@dataclass(frozen=True)
class BotLine:
    text: str
    quick_replies: tuple[str, ...] = ()


def _titles(buttons: Any) -> tuple[str, ...]:
    if not isinstance(buttons, list):
        return ()
    titles = []
    for button in buttons:
        title = button.get("title") if isinstance(button, dict) else None
        if isinstance(title, str) and (title := title.strip()) and title not in titles:
            titles.append(title[:MAX_QUICK_REPLY_CHARS])
    return tuple(titles[:MAX_QUICK_REPLIES])


def bot_lines(payload: list[Any]) -> list[BotLine]:
    """The text items of Rasa's answer, each with its button titles; other items are skipped.

    Buttons sent without text of their own belong to the line before them.
    """
    lines: list[BotLine] = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        titles = _titles(item.get("buttons"))
        if item.get("text"):
            lines.append(BotLine(str(item["text"]), titles))
        elif titles and lines:
            previous = lines[-1]
            merged = tuple(dict.fromkeys(previous.quick_replies + titles))[:MAX_QUICK_REPLIES]
            lines[-1] = BotLine(previous.text, merged)
    return lines


class BotReply(list[BotLine]):
    """Rasa's lines for a turn, and the action server's NLU summary of it (None if it sent none)."""

    def __init__(self, lines: list[BotLine], nlu: dict[str, Any] | None = None) -> None:
        super().__init__(lines)
        self.nlu = nlu


def nlu_summary(payload: list[Any]) -> dict[str, Any] | None:
    """The action server's summary of the turn, from its custom item (the last one wins)."""
    found = None
    for item in payload:
        custom = item.get("custom") if isinstance(item, dict) else None
        if isinstance(custom, dict) and isinstance(custom.get("nlu"), dict):
            found = custom["nlu"]
    return found


def bot_reply(payload: list[Any]) -> BotReply:
    return BotReply(bot_lines(payload), nlu_summary(payload))


class CircuitBreaker:
    """Closed: every call goes through. After `failures` failures in a row it opens: calls are
    refused at once for `open_seconds`. Then half-open: one probe call goes through (the others
    are still refused); its success closes the breaker, its failure opens it again.

    Thread-safe: the service's sync routes run in a thread pool.
    """

    def __init__(
        self,
        failures: int,
        open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._open_until: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if self._clock() < self._open_until or self._probing else "half_open"

    def allow(self) -> bool:
        """May a call go through now? In half-open state only the first caller gets True."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def record_success(self) -> None:
        with self._lock:
            if self._open_until is not None:
                logger.info("rasa circuit closed")
            self._consecutive = 0
            self._open_until = None
            self._probing = False

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            if self._probing or self._consecutive >= self.failures:
                if self._open_until is None or self._probing:
                    logger.warning("rasa circuit open for %.0f s", self.open_seconds)
                self._open_until = self._clock() + self.open_seconds
                self._probing = False


class RasaClient:
    """Rasa's REST channel behind a short timeout and a circuit breaker (one per service)."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        breaker: CircuitBreaker,
        quick_timeout: float | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        # For calls where the service has its own answer ready (a crisis, the greeting).
        self.quick_timeout = min(timeout, quick_timeout or timeout)
        self.breaker = breaker

    @classmethod
    def from_settings(cls, settings: Any) -> RasaClient:
        return cls(
            settings.rasa_url,
            settings.rasa_timeout_seconds,
            CircuitBreaker(settings.rasa_breaker_failures, settings.rasa_breaker_seconds),
            quick_timeout=settings.rasa_quick_timeout_seconds,
        )

    def send(self, conversation_id: str, text: str, quick: bool = False) -> list[BotLine]:
        """Rasa's lines for `text`; RasaUnavailable at once while the breaker is open.

        `quick`: the caller has its own answer ready, so it waits only `quick_timeout`.
        """
        if not self.breaker.allow():
            raise RasaUnavailable("circuit open")
        timeout = self.quick_timeout if quick else self.timeout
        try:
            lines = send_to_rasa(self.base_url, conversation_id, text, timeout)
        except RasaUnavailable:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return lines


def send_to_rasa(base_url: str, conversation_id: str, text: str, timeout: float) -> list[BotLine]:
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/webhooks/rest/webhook",
            json={"sender": conversation_id, "message": text},
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
        )
        response.raise_for_status()
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        # The error type only: the message text must never reach a log.
        logger.warning("rasa unavailable: %s", type(error).__name__)
        raise RasaUnavailable from error
    if not isinstance(payload, list):
        raise RasaUnavailable("unexpected payload")
    return bot_reply(payload)
