"""Thin client for the handoff service's internal API. Configuration is read at call time."""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5


class HandoffUnavailable(Exception):
    """The handoff service could not be reached or refused the call."""


def _base_url() -> str:
    return os.environ.get("HANDOFF_INTERNAL_URL", "http://127.0.0.1:8000").rstrip("/")


def _headers() -> dict[str, str]:
    return {"X-Internal-Token": os.environ.get("INTERNAL_API_TOKEN", "")}


def _call(method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        response = requests.request(
            method,
            f"{_base_url()}{path}",
            json=payload,
            headers=_headers(),
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        logger.warning(
            "handoff service call %s failed: %s", path.split("/")[-1], type(error).__name__
        )
        raise HandoffUnavailable from error


def service_status(conversation_id: str | None = None) -> dict[str, Any]:
    """The service's opening state for the queue this conversation waits in or would be handed
    to (each municipality has its own hours)."""
    query = f"?conversation_id={quote(conversation_id)}" if conversation_id else ""
    return _call("GET", f"/internal/v1/service-status{query}")


def hand_off(conversation_id: str, triage: dict[str, Any]) -> dict[str, Any]:
    return _call("POST", f"/internal/v1/conversations/{conversation_id}/handoff", triage)


def update_triage(conversation_id: str, triage: dict[str, Any]) -> dict[str, Any]:
    return _call("POST", f"/internal/v1/conversations/{conversation_id}/triage", triage)


def queue_state(conversation_id: str) -> dict[str, Any]:
    return _call("GET", f"/internal/v1/conversations/{conversation_id}/queue")
