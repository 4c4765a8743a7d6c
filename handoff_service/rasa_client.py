"""Relays a young person's message to Rasa's REST channel and returns the bot's text replies."""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer in time."""


def send_to_rasa(base_url: str, conversation_id: str, text: str, timeout: float) -> list[str]:
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
    return [str(item["text"]) for item in payload if isinstance(item, dict) and item.get("text")]
