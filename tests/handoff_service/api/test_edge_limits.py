"""Limits at the edge: oversized, chunked and trickled bodies, big or slow headers, CSP and co.

The stream tests run the real uvicorn (the h11 protocol `scripts/stack.py` starts,
`handoff_service.edge:EdgeH11Protocol`) on a free loopback port and talk to it with raw sockets,
as an attacker would; every socket read is bounded in time.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from handoff_service.config import Settings
from handoff_service.edge import CONTENT_SECURITY_POLICY, EdgeH11Protocol
from handoff_service.main import STATIC_DIR, create_app
from tests.utils.service import start

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0


class QuickHeadProtocol(EdgeH11Protocol):
    header_timeout_seconds = HEAD_TIMEOUT


@pytest.fixture
def live(settings: Settings) -> Iterator[int]:
    """The service under uvicorn on 127.0.0.1, as the stack runs it, with 1 s deadlines."""
    app = create_app(settings.model_copy(update={"body_timeout_seconds": BODY_TIMEOUT}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=QuickHeadProtocol,
        h11_max_incomplete_event_size=16384,
        # No log_config: uvicorn would reconfigure the process's logging for later tests.
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)
    return sock


def read_response(sock: socket.socket, limit: float = 5.0) -> tuple[int, dict[str, str], str]:
    """One response: status, headers (lower-case names), body; the server closes after it."""
    deadline = time.monotonic() + limit
    data = b""
    while True:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        if length and len(body) >= int(length.group(1)):
            break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), data[:200]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body.decode()


def closed_by_server(sock: socket.socket, within: float = 3.0) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except (TimeoutError, OSError):
        return False
    return True


def new_conversation(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/api/v1/conversations")
    response = connection.getresponse()
    assert response.status == 201
    body = json.loads(response.read())
    connection.close()
    return body["id"], body["token"]


def stored_texts(port: int, conversation_id: str, token: str) -> list[str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(
        "GET",
        f"/api/v1/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    body = json.loads(connection.getresponse().read())
    connection.close()
    return [message["text"] for message in body["messages"]]


def message_head(conversation_id: str, token: str, framing: str) -> bytes:
    return (
        f"POST /api/v1/conversations/{conversation_id}/messages HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def test_a_chunked_body_over_the_limit_is_cut_with_413_and_nothing_is_stored(live: int):
    conversation_id, token = new_conversation(live)
    text = "x" * 70_000  # over 64 KiB, sent without any Content-Length
    body = json.dumps({"text": text}).encode()
    with connect(live) as sock:
        sock.sendall(message_head(conversation_id, token, "Transfer-Encoding: chunked"))
        try:
            for start_at in range(0, len(body), 8192):
                chunk = body[start_at : start_at + 8192]
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may hang up before the last chunk: that is the point
        status, headers, detail = read_response(sock)
    assert status == 413
    assert json.loads(detail) == {"detail": "Forespørgslen er for stor."}
    assert headers["x-content-type-options"] == "nosniff"
    assert text not in stored_texts(live, conversation_id, token)


def test_a_small_chunked_body_still_works(live: int):
    conversation_id, token = new_conversation(live)
    body = json.dumps({"text": "hej med dig"}).encode()
    with connect(live) as sock:
        sock.sendall(message_head(conversation_id, token, "Transfer-Encoding: chunked"))
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        status, _, _ = read_response(sock, limit=10)
    assert status == 200
    assert "hej med dig" in stored_texts(live, conversation_id, token)


def test_a_declared_oversized_body_is_refused_before_it_is_sent(live: int):
    conversation_id, token = new_conversation(live)
    with connect(live) as sock:
        sock.sendall(message_head(conversation_id, token, "Content-Length: 10000000"))
        status, _, detail = read_response(sock)
        assert closed_by_server(sock)
    assert status == 413 and "for stor" in json.loads(detail)["detail"]


def test_a_body_shorter_than_its_content_length_times_out_with_408(live: int):
    conversation_id, token = new_conversation(live)
    with connect(live) as sock:
        # Says 1,000 bytes, sends 13 and then one byte every 0.3 s (slowloris on the body).
        sock.sendall(message_head(conversation_id, token, "Content-Length: 1000"))
        sock.sendall(b'{"text": "hej')
        started = time.monotonic()
        sock.settimeout(0.3)
        status = None
        for _ in range(20):
            try:
                sock.sendall(b"j")
            except OSError:
                break
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
        status, headers, detail = read_response(sock)
        elapsed = time.monotonic() - started
    assert status == 408
    assert json.loads(detail)["detail"] == "Forespørgslen kom for langsomt frem. Prøv igen."
    assert headers["connection"] == "close"
    assert BODY_TIMEOUT - 0.2 <= elapsed < BODY_TIMEOUT + 2


def test_headers_trickled_byte_by_byte_time_out_with_408(live: int):
    with connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        sock.settimeout(0.3)
        for _ in range(20):
            try:
                sock.sendall(b"a")
            except OSError:
                break
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
        status, _, detail = read_response(sock)
        elapsed = time.monotonic() - started
        assert closed_by_server(sock)
    assert status == 408
    assert json.loads(detail)["detail"] == "Forespørgslen kom ikke helt frem. Prøv igen."
    assert elapsed < HEAD_TIMEOUT + 2


def test_an_idle_connection_that_sends_nothing_is_closed(live: int):
    with connect(live) as sock:
        started = time.monotonic()
        assert closed_by_server(sock, within=HEAD_TIMEOUT + 3)
        assert time.monotonic() - started < HEAD_TIMEOUT + 2


def test_a_keep_alive_connection_serves_several_requests(live: int):
    connection = http.client.HTTPConnection("127.0.0.1", live, timeout=10)
    for _ in range(3):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    connection.close()


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ("".join(f"X-Many-{n}: v\r\n" for n in range(100)), "100 headers"),
        (f"X-Big: {'a' * 20_000}\r\n", "one header of 20,000 bytes, more than h11's buffer"),
        ("".join(f"X-Part-{n}: {'a' * 1000}\r\n" for n in range(40)), "40 headers of 1,000 bytes"),
    ],
)
def test_too_many_or_too_large_headers_are_431_in_danish(live: int, headers: str, why: str):
    with connect(live) as sock:
        try:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        except OSError:
            pass
        status, response_headers, detail = read_response(sock)
    assert status == 431, why
    assert json.loads(detail) == {
        "detail": "Forespørgslens headere er for store eller for mange."
    }, why
    assert response_headers["content-type"] == "application/json"


def test_too_many_headers_are_431_without_uvicorn_too(client: TestClient):
    response = client.get("/healthz", headers={f"X-Many-{n}": "v" for n in range(100)})
    assert response.status_code == 431
    assert response.json() == {"detail": "Forespørgslens headere er for store eller for mange."}


def test_ordinary_headers_pass(live: int):
    connection = http.client.HTTPConnection("127.0.0.1", live, timeout=10)
    connection.request("GET", "/healthz", headers={f"X-Some-{n}": "v" * 50 for n in range(20)})
    assert connection.getresponse().status == 200
    connection.close()


# Security headers and pages (in-process).

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def page_csp(name: str) -> str:
    html = (STATIC_DIR / name).read_text(encoding="utf-8")
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert match, name
    return match.group(1)


def test_every_response_carries_the_security_headers(client: TestClient):
    conversation_id, headers, _ = start(client)
    responses = {
        "chat page": client.get("/"),
        "dashboard": client.get("/counsellor"),
        "script": client.get("/assets/chat.js"),
        "api": client.get(f"/api/v1/conversations/{conversation_id}", headers=headers),
        "404": client.get("/findes-ikke"),
        "401": client.get("/api/v1/queue"),
        "413": client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            content=b"x" * 70_000,
            headers={**headers, "Content-Type": "application/json"},
        ),
    }
    for what, response in responses.items():
        for name, value in EXPECTED.items():
            assert response.headers.get(name) == value, (what, name)
        assert "camera=()" in response.headers["permissions-policy"], what
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], what
        assert "strict-transport-security" not in response.headers, what
    assert responses["413"].status_code == 413


def test_the_http_policy_is_the_pages_policy_plus_no_framing():
    for name in ("chat.html", "counsellor.html"):
        assert CONTENT_SECURITY_POLICY == page_csp(name) + "; frame-ancestors 'none'"


def test_the_pages_need_nothing_the_policy_forbids(client: TestClient):
    for name, url in (("chat.html", "/"), ("counsellor.html", "/counsellor")):
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), f"inline script in {name}"
        assert "<style" not in html and " style=" not in html, f"inline style in {name}"
        assert not re.search(r"\son[a-z]+=", html), f"inline handler in {name}"
        for asset in re.findall(r'(?:src|href)="(/[^"]*)"', html):
            assert client.get(asset).status_code == 200, asset
    for script in Path(STATIC_DIR / "assets").glob("*.js"):
        source = script.read_text(encoding="utf-8")
        assert ".style." not in source and "eval(" not in source, script.name
        # connect-src 'self': every request goes to a path of this origin. (The quick-exit link
        # to another site is a navigation, which the policy does not govern.)
        assert not re.search(r"(fetch|EventSource|WebSocket)\(\s*[`'\"]\w+:", source), script.name


def test_hsts_only_in_production(settings: Settings):
    production = settings.model_copy(update={"environment": "production", "seed_demo_data": False})
    with TestClient(create_app(production)) as test_client:
        response = test_client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


# Malformed JSON and the length after NFC.


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"text": ', 422),
        (b'{"text": "\xff\xfe"}', 400),
        (b"[" * 30_000 + b"]" * 30_000, 400),
    ],
    ids=["cut off", "not UTF-8", "nested 30,000 deep"],
)
def test_malformed_json_is_refused_in_danish(client: TestClient, body: bytes, status: int):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json() == {"detail": "Ugyldig JSON i forespørgslen."}


def test_the_length_limit_counts_characters_after_nfc(client: TestClient):
    conversation_id, headers, _ = start(client)
    url = f"/api/v1/conversations/{conversation_id}/messages"
    # 2,000 U+FB2C are 6,000 characters once normalised: refused, nothing stored.
    expanding = "\ufb2c" * 2000
    refused = client.post(url, json={"text": expanding}, headers=headers)
    assert refused.status_code == 422
    assert refused.json() == {"detail": "Beskeden er for lang (højst 2000 tegn)."}
    # 1,500 decomposed "å" (3,000 code points) are 1,500 characters: accepted, stored composed.
    decomposed = "a\u030a" * 1500
    accepted = client.post(url, json={"text": decomposed}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    texts = [
        m["text"]
        for m in client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()[
            "messages"
        ]
    ]
    assert "å" * 1500 in texts
    assert not any(len(text) > 2000 for text in texts)
