"""No IP address, user agent, token or message text reaches a log: checked on real requests."""

from __future__ import annotations

import logging
import socket
import threading
import time

import httpx
import uvicorn
from fastapi.testclient import TestClient

from handoff_service.logging_privacy import install_privacy_filter, scrub
from handoff_service.main import create_app

CLIENT_IP = "203.0.113.77"
FORWARDED_IP = "198.51.100.23"
USER_AGENT = "Mozilla/5.0 (SecretPhone) HemmeligBrowser/9.9"
SECRET_TEXT = "min far slår mig og jeg hedder Sofie Hansen"  # noqa: S105 - not a password


def leaks(log_text: str, *secrets: str) -> list[str]:
    return [secret for secret in secrets if secret in log_text]


def test_a_whole_conversation_logs_no_ip_agent_token_or_text(settings, caplog):
    caplog.set_level(logging.DEBUG)
    app = create_app(settings)
    headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_IP}
    with TestClient(app, client=(CLIENT_IP, 51515), headers=headers) as client:
        created = client.post("/api/v1/conversations").json()
        young = {"Authorization": f"Bearer {created['token']}"}
        url = f"/api/v1/conversations/{created['id']}"
        client.post(f"{url}/messages", json={"text": SECRET_TEXT}, headers=young)
        client.post(
            f"{url}/messages", json={"text": "x" * 3000}, headers=young
        )  # refused, still not logged
        login = client.post(
            "/api/v1/auth/login", json={"username": "demo", "password": "demo-test-password"}
        )
        staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
        client.post("/api/v1/queue/claim", headers=staff)
        client.post(f"{url}/reply", json={"text": "Hej Sofie"}, headers=staff)
        client.get(f"{url}?token={created['token']}", headers=young)
    assert caplog.records, "requests are logged (route and status), so the check is not vacuous"
    assert any(
        "/api/v1/conversations/{conversation_id}/messages" in r.getMessage() for r in caplog.records
    )
    everything = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert (
        leaks(
            everything,
            CLIENT_IP,
            FORWARDED_IP,
            "SecretPhone",
            "HemmeligBrowser",
            "Sofie",
            created["token"],
            created["id"],
            "demo-test-password",
        )
        == []
    )


def test_uvicorn_access_log_loses_the_client_address_and_query(settings, caplog):
    caplog.set_level(logging.INFO)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=True
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        response = httpx.get(
            f"http://127.0.0.1:{port}/healthz?token=hemmelig-kode",
            headers={"User-Agent": USER_AGENT},
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert access and '"GET /healthz HTTP/1.1" 200' in access[0]
    assert leaks(" ".join(access), "127.0.0.1", "hemmelig-kode", "SecretPhone") == []


def test_scrub_redacts_addresses_agents_and_queries_but_keeps_times():
    line = (
        f"{CLIENT_IP}:5000 [2001:db8::7]:443 fe80::1 {USER_AGENT} GET /x?token=abc at 21:59:03 "
        "/api/v1/conversations/f63022f4-9c8f-422f-88b8-798ad736140b/messages"
    )
    assert scrub(line) == "- - - - - GET /x at 21:59:03 /api/v1/conversations/-/messages"
    assert (
        scrub('"GET /api/v1/users/42/disable HTTP/1.1" 200')
        == '"GET /api/v1/users/42/disable HTTP/1.1" 200'
    )


def test_exception_messages_are_withheld_but_the_error_and_its_frames_stay(caplog):
    install_privacy_filter()
    caplog.set_level(logging.ERROR)
    try:
        raise ValueError(SECRET_TEXT)
    except ValueError:
        logging.getLogger("handoff_service.anything").exception("failed for %s", FORWARDED_IP)
    assert "ValueError (message withheld)" in caplog.text
    assert "test_exception_messages_are_withheld" in caplog.text, "the traceback frames are kept"
    assert leaks(caplog.text, "Sofie", FORWARDED_IP) == []


def test_uvicorn_access_formatter_still_formats_a_scrubbed_record():
    from uvicorn.logging import AccessFormatter

    install_privacy_filter()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (f"{CLIENT_IP}:5000", "GET", "/docs?token=hemmelig", "1.1", 200),
        None,
    )
    line = AccessFormatter(
        '%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False
    ).format(record)
    assert line == '- - "GET /docs HTTP/1.1" 200 OK'
