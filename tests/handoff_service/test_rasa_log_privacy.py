"""The Rasa process's log filter (scripts/rasa_log_privacy.py) leaves no message text."""

from __future__ import annotations

import json
import logging

from scripts.rasa_log_privacy import NoMessageText

TEXT = "jeg hedder Sofie og min far slår"


def record(message, args=()) -> logging.LogRecord:
    return logging.LogRecord(
        "rasa.core.channels.rest", logging.ERROR, __file__, 1, message, args, None
    )


def test_the_timeout_record_keeps_its_event_but_not_the_text():
    line = record(json.dumps({"text": TEXT, "event": "rest.message.received.timeout"}))
    assert NoMessageText().filter(line) is True
    assert TEXT not in line.getMessage()
    assert json.loads(line.getMessage()) == {
        "text": "[redacted]",
        "event": "rest.message.received.timeout",
    }


def test_nested_text_and_a_traceback_s_locals_are_redacted():
    payload = {
        "event": "rest.message.received.failure",
        "text": TEXT,
        "exception": [{"frames": [{"locals": {"text": repr(TEXT), "sender_id": "'x'"}}]}],
        "tracker": {"latest_message": {"text": TEXT}},
    }
    line = record(json.dumps(payload))
    NoMessageText().filter(line)
    assert "Sofie" not in line.getMessage()
    assert "sender_id" in line.getMessage()


def test_console_rendering_of_an_aborted_call_keeps_only_the_event_name():
    line = record("rest.message.received.timeout text=%s", (TEXT,))
    NoMessageText().filter(line)
    assert line.getMessage() == "rest.message.received.timeout"


def test_other_records_pass_unchanged():
    line = record("Starting Rasa server on %s", ("http://127.0.0.1:5005",))
    NoMessageText().filter(line)
    assert line.getMessage() == "Starting Rasa server on http://127.0.0.1:5005"
