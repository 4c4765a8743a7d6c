"""The short pickup code: readable, forgiving to type, a fresh token on use, guessing limited."""

from __future__ import annotations

import hashlib
import logging
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff_service.models import Conversation
from handoff_service.pickup import ALPHABET, hash_pickup_code, normalise_pickup_code
from handoff_service.ratelimit import RateLimiter
from tests.utils.service import start
from tests.utils.sse import listen

PICKUP = "/api/v1/conversations/pickup"
CODE_SHAPE = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}")


def from_address(client: TestClient, address: str) -> TestClient:
    """Another client of the same running app (no second start-up: the app is already up)."""
    return TestClient(client.app, client=(address, 4000))


def test_a_new_conversation_comes_with_a_readable_code_stored_only_as_a_keyed_hash(
    client: TestClient, session, settings
):
    codes = {start(client)[2]["pickup_code"] for _ in range(20)}
    assert len(codes) == 20 and all(CODE_SHAPE.fullmatch(code) for code in codes), codes
    assert not set("01ILOU") & set("".join(codes))
    stored = session.scalars(select(Conversation.pickup_hash)).all()
    expected = {hash_pickup_code(normalise_pickup_code(c), settings.secret_key) for c in codes}
    assert set(stored) == expected
    assert not any(code in str(row) for code in codes for row in stored)
    # Keyed: the plain SHA-256 of the code (what a leaked database would be tried with) differs.
    plain = {hashlib.sha256(normalise_pickup_code(c).encode()).hexdigest() for c in codes}
    assert not plain & set(stored)


def test_the_code_opens_the_conversation_with_a_fresh_token_and_the_old_one_stops(
    client: TestClient,
):
    conversation_id, old_headers, created = start(client)
    url = f"/api/v1/conversations/{conversation_id}"
    client.post(f"{url}/messages", json={"text": "er der nogen?"}, headers=old_headers)
    picked = client.post(PICKUP, json={"code": created["pickup_code"]})
    assert picked.status_code == 200, picked.text
    body = picked.json()
    assert set(body) == {"id", "token", "status"}
    assert body["id"] == conversation_id and body["status"] == "queued"
    assert body["token"] != created["token"] and len(body["token"]) >= 32
    new_headers = {"Authorization": f"Bearer {body['token']}"}
    transcript = client.get(url, headers=new_headers).json()
    assert [m["text"] for m in transcript["messages"] if m["sender"] == "young"] == [
        "er der nogen?"
    ]
    assert client.get(url, headers=old_headers).status_code == 404
    assert (
        client.post(f"{url}/messages", json={"text": "hej"}, headers=old_headers).status_code == 404
    )
    # The code keeps working: the young person may come back more than once.
    again = client.post(PICKUP, json={"code": created["pickup_code"]}).json()
    assert again["id"] == conversation_id and again["token"] != body["token"]


def test_case_spaces_and_dashes_do_not_matter(client: TestClient):
    conversation_id, _headers, created = start(client)
    plain = created["pickup_code"].replace("-", "")
    for typed in (
        plain.lower(),
        f"  {plain[:4]} {plain[4:8]} {plain[8:]} ",
        "-".join(plain),
        f"{plain[:3]}–{plain[3:]}",
        created["pickup_code"].lower(),
    ):
        response = client.post(PICKUP, json={"code": typed})
        assert response.status_code == 200, (typed, response.text)
        assert response.json()["id"] == conversation_id


def test_an_unknown_or_malformed_code_gets_a_danish_404(client: TestClient):
    start(client)
    for typed in ("K7QM-3XPD-9T", "", "abc", "K7QM-3XPD-9TT", "ÆØÅÆ-ØÅÆØ-ÅÆ", "O0I1-L0O1-IL"):
        response = client.post(PICKUP, json={"code": typed})
        assert response.status_code == 404, (typed, response.text)
        assert "kan ikke finde en samtale" in response.json()["detail"]
    too_long = client.post(PICKUP, json={"code": "A" * 65})
    assert too_long.status_code == 422
    assert client.post(PICKUP, json={}).status_code == 422


def test_guessing_is_limited_per_client_in_danish(client: TestClient):
    _id, _headers, created = start(client)
    client.app.state.rate_limits.pickup_clients = RateLimiter(3, 600)
    answers = [client.post(PICKUP, json={"code": "K7QM-3XPD-9T"}).status_code for _ in range(3)]
    assert answers == [404, 404, 404]
    refused = client.post(PICKUP, json={"code": created["pickup_code"]})  # even the right one
    assert refused.status_code == 429
    assert "for mange koder" in refused.json()["detail"] and "112" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 600
    # Another client (another address) is not affected by this one's guessing.
    other = from_address(client, "192.0.2.10")
    assert other.post(PICKUP, json={"code": created["pickup_code"]}).status_code == 200


def test_guessing_from_many_clients_meets_the_service_wide_ceiling(client: TestClient):
    _id, _headers, created = start(client)
    client.app.state.rate_limits.pickups = RateLimiter(4, 60)
    answers = []
    for n in range(5):
        someone = from_address(client, f"192.0.2.{n + 1}")
        answers.append(someone.post(PICKUP, json={"code": "K7QM-3XPD-9T"}).status_code)
    assert answers == [404, 404, 404, 404, 429]


def test_a_page_open_with_the_old_token_is_told_the_conversation_moved(client: TestClient):
    conversation_id, headers, created = start(client)
    with listen(client, f"/api/v1/conversations/{conversation_id}/events", headers) as stream:
        stream.next_of("status")
        client.post(PICKUP, json={"code": created["pickup_code"]})
        assert stream.next_of("token_replaced") == {}


def test_the_code_and_the_tokens_never_reach_a_log(client: TestClient, caplog):
    caplog.set_level(logging.DEBUG)
    conversation_id, _headers, created = start(client)
    picked = client.post(PICKUP, json={"code": created["pickup_code"].lower()}).json()
    client.post(PICKUP, json={"code": "K7QM-3XPD-9T"})
    assert any("pickup" in record.getMessage() for record in caplog.records)
    everything = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in (
        created["pickup_code"],
        created["pickup_code"].replace("-", ""),
        created["pickup_code"].lower(),
        "K7QM",
        created["token"],
        picked["token"],
        conversation_id,
    ):
        assert secret not in everything, secret


def test_older_conversations_without_a_code_still_open_with_their_token(
    client: TestClient, session
):
    conversation_id, headers, _ = start(client)
    session.get(Conversation, conversation_id).pickup_hash = None
    session.commit()
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).status_code == 200
    )
