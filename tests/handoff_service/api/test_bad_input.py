"""Odd or hostile input gets a 4xx with a Danish reason on every route, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.service import start

ODD_IDS = [
    "%00",
    "a%00b",
    "x" * 300,
    "00000000-0000-0000-0000-00000000000%00",
    "..%2F..%2Fetc",
    "%F0%9F%98%80",
]
ODD_BODIES = [
    {"content": b"\x00\xff\xfe", "headers": {"Content-Type": "application/json"}},
    {"json": None},
    {"json": 42},
    {"json": {"text": None}},
    {"json": {"text": ["hej"]}},
    {"json": {"text": "\u0000\u0000"}},
    {
        "content": b'{"text": "hej \\ud800 med dig", "username": "\\udfff"}',
        "headers": {"Content-Type": "application/json"},
    },
    {"json": {"username": "\u0000demo", "password": "\u0000"}},
    {"json": {"username": "a" * 65, "password": "x"}},
    {"json": {"weekday": "mandag", "starts_at": "25:00", "ends_at": None}},
    {"json": {"on_date": "2026-02-30", "kind": "closed"}},
    {"json": {"username": "ny-bruger", "password": "p" * 300, "role": "admin"}},
    {"json": {"outcome": "deleted", "leave_for_later": "måske"}},
]


@pytest.fixture
def everyone(client: TestClient, counsellor_headers, admin_headers):
    conversation_id, young, _ = start(client)
    return conversation_id, young, counsellor_headers, admin_headers


def routes(conversation_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", f"/api/v1/conversations/{conversation_id}/messages"),
        ("POST", f"/api/v1/conversations/{conversation_id}/handoff"),
        ("POST", f"/api/v1/conversations/{conversation_id}/reply"),
        ("POST", f"/api/v1/conversations/{conversation_id}/close"),
        ("POST", f"/api/v1/conversations/{conversation_id}/release"),
        ("POST", f"/api/v1/conversations/{conversation_id}/anonymity-broken"),
        ("GET", f"/api/v1/counsellor/conversations/{conversation_id}"),
        ("POST", f"/internal/v1/conversations/{conversation_id}/handoff"),
        ("POST", f"/internal/v1/conversations/{conversation_id}/triage"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/1"),
        ("POST", "/api/v1/shifts/weekly"),
        ("PUT", "/api/v1/shifts/weekly/1"),
        ("POST", "/api/v1/shifts/exceptions"),
    ]


def assert_reasoned_4xx(response, where) -> None:
    assert 400 <= response.status_code < 500 or response.status_code in (200, 201, 204), (
        where,
        response.status_code,
    )
    if response.status_code >= 400:
        detail = response.json()["detail"]
        assert isinstance(detail, str) and detail, where


def test_odd_bodies_on_every_route(client: TestClient, everyone, internal_headers):
    conversation_id, young, counsellor, admin = everyone
    for method, url in routes(conversation_id):
        headers = (
            {**young, **internal_headers} if "internal" in url or "/messages" in url else admin
        )
        for body in ODD_BODIES:
            kwargs = {k: v for k, v in body.items() if k != "headers"}
            response = client.request(
                method, url, headers={**headers, **body.get("headers", {})}, **kwargs
            )
            assert_reasoned_4xx(response, (method, url, body))


def test_odd_ids_in_paths(client: TestClient, everyone, internal_headers):
    _conversation_id, young, counsellor, admin = everyone
    for odd in ODD_IDS:
        for method, url in routes(odd):
            headers = {**young, **internal_headers, **(admin if "/api/v1/c" not in url else {})}
            response = client.request(method, url, headers=headers, json={"text": "hej"})
            assert_reasoned_4xx(response, (method, url))
        for url in (f"/api/v1/conversations/{odd}", f"/api/v1/conversations/{odd}/events"):
            assert_reasoned_4xx(client.get(url, headers=young), url)
        assert_reasoned_4xx(
            client.get(f"/api/v1/audit?conversation_id={odd}", headers=admin), "audit"
        )


def test_triage_from_the_bot_is_cleaned_not_refused(client: TestClient, internal_headers):
    conversation_id, headers, _ = start(client)
    response = client.post(
        f"/internal/v1/conversations/{conversation_id}/handoff",
        json={
            "risk": "ukendt",
            "topic": "violence\u0000" + "x" * 100,
            "intents": ["violence", None, 7, "\u0000"],
            "entities": {"carer": ["far\u0000", "mor" * 50], "odd": "value"},
            "reason": ["not", "a", "string"],
        },
        headers=internal_headers,
    )
    assert response.status_code == 200, response.text
    state = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()
    assert state["status"] == "queued"
    assert state["risk"] == "high", "an unknown risk level counts as high, never as normal"
