"""Relays a young person's message to Rasa's REST channel and returns the bot's replies.

Each reply is one bot line with the titles of its buttons (quick replies), if it has any. Rasa's
REST channel answers `[{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}, ...]`;
the page sends a button's title as the young person's own message, so only titles are kept.
"""

from __future__ import annotations

import logging
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


def send_to_rasa(base_url: str, conversation_id: str, text: str, timeout: float) -> list[BotLine]:
    try:
        response = httpx.post(
            f"{base_url.rstrip('/')}/webhooks/rest/webhook",
            json={"sender": conversation_id, "message": text},
            timeout=httpx.Timeout(timeout, connect=3.0),
        )
        response.raise_for_status()
        payload = response.json()
    except (httpx.HTTPError, ValueError) as error:
        # The error type only: the message text must never reach a log.
        logger.warning("rasa unavailable: %s", type(error).__name__)
        raise RasaUnavailable from error
    if not isinstance(payload, list):
        raise RasaUnavailable("unexpected payload")
    return bot_lines(payload)
