"""Limits at the edge: body and header size, slow clients, and security headers on every response.

Two small pieces, both in front of everything else:

- `EdgeGuard`, a pure ASGI middleware. It refuses too many headers (431) and reads a request
  body itself, on the stream, before the application sees any of it: a declared length over
  `MAX_BODY_BYTES` is refused unread and a chunked body (no Content-Length) is cut as soon as it
  passes the limit (413); a body that has not arrived `BODY_TIMEOUT_SECONDS` after the headers
  (trickled, or shorter than its Content-Length) is cut too (408). Then it replays the body to
  the application. It adds the security headers to every response it passes.
- `EdgeH11Protocol`, uvicorn's h11 protocol with the two limits uvicorn lacks before a request
  reaches ASGI: a deadline for the request head (a client that trickles its headers is answered
  408 and disconnected) and a Danish 431 instead of a bare 400 when the head outgrows h11's
  buffer (`--h11-max-incomplete-event-size`). `scripts/stack.py` starts uvicorn with
  `--http handoff_service.edge:EdgeH11Protocol`.

Every refusal is `{"detail": "<Danish sentence>"}` with `Connection: close`, like the API's
other errors. Nothing about the client is logged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from uvicorn.protocols.http.h11_impl import H11Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_TOO_LARGE = "Forespørgslen er for stor."
HEADERS_TOO_LARGE = "Forespørgslens headere er for store eller for mange."
BODY_TOO_SLOW = "Forespørgslen kom for langsomt frem. Prøv igen."
HEAD_TOO_SLOW = "Forespørgslen kom ikke helt frem. Prøv igen."
BAD_LENGTH = "Forespørgslen har en ugyldig længde."

# The pages' own policy (handoff_service/static/*.html repeat it in a <meta> tag), plus what a
# <meta> tag cannot say: no framing at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
HSTS = "max-age=31536000; includeSubDomains"
# The interactive docs (development only, handoff_service/api_docs.py): Swagger UI sets inline
# styles and data: images the page policy forbids, so that page gets every header but the CSP.
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


def security_headers(*, hsts: bool, csp: bool = True) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if csp:
        headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    if hsts:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


def _add_missing(headers: list[tuple[bytes, bytes]], extra: Iterable[tuple[bytes, bytes]]) -> None:
    present = {name.lower() for name, _ in headers}
    headers.extend((name, value) for name, value in extra if name not in present)


def json_error(status: int, detail: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class EdgeGuard:
    """Pure ASGI middleware: header and body limits first, security headers on the way out."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_headers: int,
        body_timeout_seconds: float,
        hsts: bool,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_headers = max_headers
        self.body_timeout_seconds = body_timeout_seconds
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(hsts=self.hsts, csp=scope.get("path") not in DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                _add_missing(headers, extra)
                message["headers"] = headers
            await send(message)

        headers: list[tuple[bytes, bytes]] = scope["headers"]
        # Their size is capped where they are buffered, in the protocol (EdgeH11Protocol: 16 KiB).
        if len(headers) > self.max_headers:
            await _refuse(send_with_headers, 431, HEADERS_TOO_LARGE)
            return
        declared: bytes | None = None
        chunked = False
        for name, value in headers:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is not None and not declared.strip().isdigit():
            await _refuse(send_with_headers, 400, BAD_LENGTH)
            return
        if declared is not None and int(declared) > self.max_body_bytes:
            # Refused on the declaration alone: not a byte of the body is read.
            await _refuse(send_with_headers, 413, BODY_TOO_LARGE)
            return
        if declared is None and not chunked:
            # HTTP/1.1 framing: no Content-Length and no Transfer-Encoding means no body.
            await self.app(scope, receive, send_with_headers)
            return
        try:
            body = await asyncio.wait_for(self._read_body(receive), self.body_timeout_seconds)
        except _BodyTooLarge:
            await _refuse(send_with_headers, 413, BODY_TOO_LARGE)
            return
        except TimeoutError:
            await _refuse(send_with_headers, 408, BODY_TOO_SLOW)
            return
        except _ClientGone:
            return
        await self.app(scope, _replay(body, receive), send_with_headers)

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body only the disconnect is left to hear (streaming responses wait for it).
        return await receive()

    return replay


async def _refuse(send: Send, status: int, detail: str) -> None:
    headers, body = json_error(status, detail)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class EdgeH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head and a Danish 431.

    uvicorn itself waits for a request head for ever (its keep-alive timeout starts only after a
    response), so a client sending one header byte every few seconds holds a connection and its
    memory indefinitely. Here every request head must be complete `header_timeout_seconds`
    after the connection opens or the previous response ends; otherwise the client is answered
    408 (if it sent anything) and disconnected.
    """

    header_timeout_seconds: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout_seconds, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # h11 checks its limit only while a head is incomplete: a large head that arrives in
            # one read would pass. Measure the head here, however it is cut into reads.
            buffered = self.conn.trailing_data[0] + data
            end = buffered.find(b"\r\n\r\n")
            if (end if end >= 0 else len(buffered)) > self._max_head_bytes():
                self._cancel_head_timer()
                self._write_raw(431, HEADERS_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            # The head is complete (or the connection failed): the body has its own deadline.
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:
            self._write_raw(408, HEAD_TOO_SLOW)
        self.transport.close()

    def _max_head_bytes(self) -> int:
        return self.config.h11_max_incomplete_event_size or DEFAULT_MAX_INCOMPLETE_EVENT_SIZE

    def send_400_response(self, msg: str) -> None:
        # h11 refuses a head longer than its buffer with the hint 431; say so, in Danish.
        if len(self.conn.trailing_data[0]) > self._max_head_bytes():
            self._cancel_head_timer()
            self._write_raw(431, HEADERS_TOO_LARGE)
            self.transport.close()
            return
        super().send_400_response(msg)

    def _write_raw(self, status: int, detail: str) -> None:
        headers, body = json_error(status, detail)
        _add_missing(headers, security_headers(hsts=False))
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
        lines += [name + b": " + value + b"\r\n" for name, value in headers]
        self.transport.write(b"".join(lines) + b"\r\n" + body)
