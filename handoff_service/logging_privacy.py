"""Logging that cannot carry an IP address, a user agent or a query string.

The service itself logs only route templates, statuses, counts and error types. This filter is
the safety net for everything else in the process (uvicorn's access and error logs, libraries):
it blanks uvicorn's client address, cuts query strings and redacts anything shaped like an IP
address or a user agent before a record reaches a handler.
"""

from __future__ import annotations

import logging
import re

_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b")
_H = r"[0-9a-fA-F]{1,4}"
# A full eight-group address or one with "::"; clock times such as 13:41:52 are left alone.
_IPV6 = re.compile(
    rf"\[?(?<![\w:])(?:(?:{_H}:){{7}}{_H}|(?:{_H}:)*(?:{_H})?::(?:{_H}:)*(?:{_H})?)(?![\w:])\]?(?::\d{{1,5}})?"
)
_USER_AGENT = re.compile(r"(?i)\b(?:mozilla|applewebkit|chrome|safari|firefox|edg|opera|curl|python-httpx|okhttp)/[^\s\"]+")
_QUERY = re.compile(r"(/[^\s?\"]*)\?[^\s\"]*")
REDACTED = "-"


def scrub(text: str) -> str:
    text = _QUERY.sub(r"\1", text)
    text = _IPV4.sub(REDACTED, text)
    text = _IPV6.sub(REDACTED, text)
    return _USER_AGENT.sub(REDACTED, text)


class PrivacyFilter(logging.Filter):
    """Rewrites records in place; never drops one (an error must still be seen)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn: (client_addr, method, full_path, http_version, status_code)
            client, method, path, version, status_code = record.args
            record.args = (REDACTED, method, str(path).split("?", 1)[0], version, status_code)
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception texts can quote request data; keep the type, drop the text and the trace.
            record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
            record.exc_info = record.exc_text = None
        return True


PRIVACY_FILTER = PrivacyFilter()
GUARDED_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "handoff_service", "httpx", "sqlalchemy")


def install_privacy_filter() -> None:
    """Guard the root handlers and the loggers that may see request data. Idempotent."""
    for handler in logging.getLogger().handlers:
        if PRIVACY_FILTER not in handler.filters:
            handler.addFilter(PRIVACY_FILTER)
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        if PRIVACY_FILTER not in logger.filters:
            logger.addFilter(PRIVACY_FILTER)
        for handler in logger.handlers:
            if PRIVACY_FILTER not in handler.filters:
                handler.addFilter(PRIVACY_FILTER)


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_privacy_filter()
