"""A logging filter for the Rasa process: no message text in Rasa's log.

Rasa 3.6's REST channel logs the whole message on every aborted call
(`{"text": "...", "event": "rest.message.received.timeout"}`, also `...failure`), and other
structlog records carry the text, the tracker or the parse result under known keys. Rasa's
structlog renders each record as one JSON string handed to the standard `logging` module, so a
filter on the handler (scripts/rasa_logging.yml, passed to `rasa run --logging-config-file` by
scripts/stack.py) sees every record and rewrites it before it is written.

Standard library only: it runs inside Rasa's environment and is tested from the service's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

REDACTED = "[redacted]"
# Rasa's own list of keys that may hold what a user wrote (rasa/utils/log_utils.py), and a few
# more that hold the conversation.
SENSITIVE_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker",
        "tracker_latest_message",
        "latest_message",
        "prefilled_slots",
        "message",
        "metadata",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
    }
)
# Records that exist to say a message was aborted: their text is never kept, in any rendering.
ABORTED_EVENTS = ("rest.message.received.timeout", "rest.message.received.failure")


def redact(value: Any) -> Any:
    """`value` with every sensitive key's value replaced, at any depth."""
    if isinstance(value, dict):
        return {
            key: REDACTED if key in SENSITIVE_KEYS else redact(item) for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


class NoMessageText(logging.Filter):
    """Rewrites structlog's JSON records without message text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        if isinstance(message, dict):
            record.msg = redact(message)
            return True
        if not isinstance(message, str):
            return True
        try:
            payload = json.loads(message) if message.startswith("{") else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            record.msg = json.dumps(redact(payload), ensure_ascii=False)
            record.args = ()
        else:
            for event in ABORTED_EVENTS:
                if event in message:
                    # Console rendering (a terminal): only the event's name is kept.
                    record.msg, record.args = event, ()
                    break
        return True
