"""Logging that cannot carry an IP address, a user agent, a query string or a conversation id.

The service itself logs only route templates, statuses, counts and error types. This is the
safety net for everything else in the process (uvicorn's access and error logs, httpx, httpcore,
libraries): every log record is scrubbed when it is created, whichever logger made it.
Exception messages can quote request data, so only the exception type and the traceback's
frames are kept.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b")
_H = r"[0-9a-fA-F]{1,4}"
# A full eight-group address or one with "::"; clock times such as 13:41:52 are left alone.
_IPV6 = re.compile(
    rf"\[?(?<![\w:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:)*(?:{_H})?::(?:{_H}:)*(?:{_H})?)(?![\w:])\]?(?::\d{{1,5}})?"
)
# Product tokens with a dotted version ("Mozilla/5.0 (X11; Linux)", "curl/8.5.0"), not HTTP/1.1.
_USER_AGENT = re.compile(r"\b(?!HTTP/)[A-Za-z][\w.-]*/\d+(?:\.\w+)+(?:\s*\([^)]*\))?")
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
REDACTED = "-"


def scrub(text: str) -> str:
    text = _QUERY.sub(r"\1", text)
    text = _UUID.sub(REDACTED, text)
    text = _IPV4.sub(REDACTED, text)
    text = _IPV6.sub(REDACTED, text)
    return _USER_AGENT.sub(REDACTED, text)


def _scrub_arg(value: object) -> object:
    # Numbers stay numbers (a %d placeholder needs one); anything else is scrubbed as text.
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    cleaned = scrub(text)
    return value if cleaned == text else cleaned


class PrivacyFilter(logging.Filter):
    """Rewrites a record in place, keeping its shape (formatters such as uvicorn's read args);
    never drops one (an error must still be seen)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            # uvicorn: (client_addr, method, full_path, http_version, status_code)
            _client, method, path, version, status_code = args
            args = (REDACTED, method, str(path).split("?", 1)[0], version, status_code)
        if isinstance(args, tuple):
            record.args = tuple(_scrub_arg(value) for value in args)
        elif isinstance(args, Mapping):
            record.args = {key: _scrub_arg(value) for key, value in args.items()}
        record.msg = scrub(record.msg) if isinstance(record.msg, str) else scrub(str(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            frames = "".join(traceback.format_tb(error.__traceback__))
            withheld = f"{type(error).__name__} (message withheld)"
            record.exc_text = f"Traceback (most recent call last):\n{frames}{withheld}"
            record.exc_info = None
        return True


PRIVACY_FILTER = PrivacyFilter()
_base_factory = logging.getLogRecordFactory()


def _private_record(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    PRIVACY_FILTER.filter(record)
    return record


def install_privacy_filter() -> None:
    """Scrub every log record of the process from now on. Idempotent."""
    if logging.getLogRecordFactory() is not _private_record:
        logging.setLogRecordFactory(_private_record)


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_privacy_filter()
