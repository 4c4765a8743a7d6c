"""Who may see and do what when several organisations share the platform (issue #16).

Counsellors see and claim only their own organisation's queue and, for a member, the network's;
any other conversation is 404 as if it did not exist. An organisation's admin manages only its
own shifts, users and page; a platform admin manages organisations. The public pages need no
login and show no staff. Referral moves a conversation to another queue, audited, and tells the
young person where. The network is the one of tests/utils/organisations.py.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.utils.organisations import (
    CRITICAL,
    MONDAY,
    NETWORK_STAFF,
    Clock,
    build_network,
    freeze_clock,
    on_day,
    queue_ids,
    waiting_young,
)

NOT_FOUND = "Samtalen findes ikke."


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return freeze_clock(monkeypatch, on_day(MONDAY, 13))


@pytest.fixture
def network(client: TestClient, admin_headers, settings, clock):
    return build_network(client, admin_headers, settings)


def claim(client: TestClient, headers: dict[str, str]) -> str | None:
    response = client.post("/api/v1/queue/claim", headers=headers)
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    return response.json()["id"]


def counsellor_requests(conversation_id: str) -> list[tuple[str, str, dict | None]]:
    """Every counsellor endpoint that names a conversation (method, path, body)."""
    base = f"/api/v1/counsellor/conversations/{conversation_id}"
    return [
        ("GET", base, None),
        ("GET", f"{base}/events", None),
        ("POST", f"/api/v1/conversations/{conversation_id}/reply", {"text": "Hej"}),
        ("GET", f"{base}/notes", None),
        ("POST", f"{base}/notes", {"text": "En note"}),
        ("POST", f"{base}/refer", {"organisation": "aaby", "reason": "local_follow_up"}),
    ]


def user_ids(client: TestClient, admin_headers) -> dict[str, int]:
    return {
        u["username"]: u["id"] for u in client.get("/api/v1/users", headers=admin_headers).json()
    }


# -- counsellors ------------------------------------------------------------------------------


def test_a_counsellor_gets_404_on_another_organisations_conversation(
    client: TestClient, internal_headers, network, clock
):
    theirs = waiting_young(client, internal_headers, "fjordby")  # Fjordby closed: waits locally
    fjordby = network.counsellor("fjordby")
    assert claim(client, fjordby) == theirs.id
    for method, path, body in counsellor_requests(theirs.id):
        response = client.request(method, path, json=body, headers=network.counsellor("aaby"))
        assert (response.status_code, response.json()["detail"]) == (404, NOT_FOUND), path
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.get(
        f"/api/v1/counsellor/conversations/{unknown}", headers=network.counsellor("aaby")
    ).json() == {"detail": NOT_FOUND}, "another organisation's looks like one that does not exist"
    # The holder's own organisation may: the endpoints work, it is the organisation that counts.
    assert client.get(f"/api/v1/counsellor/conversations/{theirs.id}", headers=fjordby).is_success
    reply = client.post(
        f"/api/v1/conversations/{theirs.id}/reply", json={"text": "Hej"}, headers=fjordby
    )
    assert reply.status_code == 200, reply.text
    texts = [m["text"] for m in theirs.view(client)["messages"]]
    assert texts.count("Hej") == 1, "nothing written by the other organisation's counsellor"


def test_a_counsellor_never_sees_nor_claims_another_organisations_queue(
    client: TestClient, internal_headers, network, clock
):
    ours = waiting_young(client, internal_headers, "aaby")  # Åby open at 13
    theirs = waiting_young(client, internal_headers, "fjordby", CRITICAL)  # nobody open to move to
    # Bakkeby is closed and the network opens first: its young person waits for the network.
    clock.at(MONDAY, 13, 5)
    shared = waiting_young(client, internal_headers, "bakkeby")
    assert queue_ids(client, network.counsellor("aaby")) == [ours.id, shared.id]
    assert queue_ids(client, network.counsellor("bakkeby")) == [shared.id]
    assert queue_ids(client, network.counsellor("faelles")) == [shared.id]
    assert queue_ids(client, network.counsellor("fjordby")) == [theirs.id]
    # The critical conversation is more urgent, but it is not Åby's to take.
    assert claim(client, network.counsellor("aaby")) == ours.id
    assert claim(client, network.counsellor("aaby")) == shared.id
    assert claim(client, network.counsellor("aaby")) is None
    assert claim(client, network.counsellor("faelles")) is None
    assert theirs.view(client)["status"] == "queued"
    assert claim(client, network.counsellor("fjordby")) == theirs.id


def test_network_counsellors_see_and_take_the_conversations_a_closed_member_sends_them(
    client: TestClient, internal_headers, network, clock
):
    local = waiting_young(client, internal_headers, "aaby")  # 13: Åby open, in its own queue
    clock.at(MONDAY, 17, 30)  # Åby closed, the network open
    routed = waiting_young(client, internal_headers, "aaby")
    assert queue_ids(client, network.counsellor("faelles")) == [routed.id]
    assert queue_ids(client, network.counsellor("bakkeby")) == [routed.id]
    assert routed.id not in queue_ids(client, network.counsellor("fjordby"))
    opened = client.get(
        f"/api/v1/counsellor/conversations/{routed.id}", headers=network.counsellor("faelles")
    )
    assert opened.status_code == 200, opened.text
    for outsider in ("fjordby", "bakkeby"):
        assert (
            client.get(
                f"/api/v1/counsellor/conversations/{local.id}",
                headers=network.counsellor(outsider),
            ).status_code
            == 404
        ), f"{outsider} must not see Åby's own queue"
    assert claim(client, network.counsellor("bakkeby")) == routed.id
    assert claim(client, network.counsellor("faelles")) is None


def test_a_conversation_is_handed_only_to_a_colleague_who_may_take_from_its_queue(
    client: TestClient, admin_headers, internal_headers, network, clock
):
    young = waiting_young(client, internal_headers, "aaby")
    aaby = network.counsellor("aaby")
    assert claim(client, aaby) == young.id
    colleagues = {
        c["username"] for c in client.get("/api/v1/counsellor/colleagues", headers=aaby).json()
    }
    assert "fjordby-raadgiver" not in colleagues, "no queue in common"
    assert {"aaby-admin", "bakkeby-raadgiver"} <= colleagues, "the own and the network's queue"
    ids = user_ids(client, admin_headers)
    path = f"/api/v1/counsellor/conversations/{young.id}/transfer"
    # Bakkeby's counsellor shares the network's queue, not Åby's own, where this one waits.
    for outsider in ("fjordby-raadgiver", "bakkeby-raadgiver"):
        refused = client.post(path, json={"to_user_id": ids[outsider]}, headers=aaby)
        assert refused.status_code == 422, (outsider, refused.text)
    assert (
        client.get(
            f"/api/v1/counsellor/conversations/{young.id}", headers=network.counsellor("bakkeby")
        ).status_code
        == 404
    )
    handed = client.post(path, json={"to_user_id": ids["aaby-admin"]}, headers=aaby)
    assert handed.status_code == 200, handed.text


# -- organisation admins ----------------------------------------------------------------------


def test_an_organisation_admin_cannot_edit_another_organisations_shifts(
    client: TestClient, admin_headers, network, clock
):
    mine = network.staff["aaby-admin"]
    shift = {"weekday": 5, "starts_at": "10:00", "ends_at": "12:00"}
    closed = {"on_date": MONDAY.isoformat(), "kind": "closed"}
    fjordby_before = client.get("/api/v1/shifts?organisation=fjordby", headers=mine).json()
    fjordby_shift = fjordby_before["weekly"][0]["id"]
    network_shift = client.get("/api/v1/shifts?organisation=faelles", headers=mine).json()
    for method, path, body in [
        ("POST", "/api/v1/shifts/weekly?organisation=fjordby", shift),
        ("POST", "/api/v1/shifts/weekly?organisation=faelles", shift),  # its network's rota
        ("POST", "/api/v1/shifts/weekly?organisation=default", shift),
        ("PUT", f"/api/v1/shifts/weekly/{fjordby_shift}", shift),
        ("DELETE", f"/api/v1/shifts/weekly/{fjordby_shift}", None),
        ("DELETE", f"/api/v1/shifts/weekly/{network_shift['weekly'][0]['id']}", None),
        ("POST", "/api/v1/shifts/exceptions?organisation=fjordby", closed),
    ]:
        response = client.request(method, path, json=body, headers=mine)
        assert response.status_code == 403, (method, path, response.text)
        assert "egen organisation" in response.json()["detail"]
    fjordby_after = client.get("/api/v1/shifts?organisation=fjordby", headers=mine).json()
    assert fjordby_after["weekly"] == fjordby_before["weekly"]
    assert fjordby_after["exceptions"] == []

    own = client.post("/api/v1/shifts/weekly", json=shift, headers=mine)
    assert own.status_code == 201, own.text
    aaby = client.get("/api/v1/shifts?organisation=aaby", headers=mine).json()
    assert own.json()["id"] in [s["id"] for s in aaby["weekly"]]
    # Another organisation's shift cannot be deleted by its id either, but the platform admin can.
    assert (
        client.delete(f"/api/v1/shifts/weekly/{fjordby_shift}", headers=admin_headers).status_code
        == 204
    )


def test_an_organisation_admin_manages_only_its_own_users(
    client: TestClient, admin_headers, network, clock
):
    mine = network.staff["aaby-admin"]
    listed = client.get("/api/v1/users", headers=mine)
    assert listed.status_code == 200
    assert {u["username"] for u in listed.json()} == {"aaby-raadgiver", "aaby-admin"}
    assert {u["organisation"]["slug"] for u in listed.json()} == {"aaby"}
    ids = user_ids(client, admin_headers)
    other = ids["fjordby-raadgiver"]
    for method, path, body in [
        ("PATCH", f"/api/v1/users/{other}", {"role": "admin"}),
        ("PATCH", f"/api/v1/users/{ids['demo-admin']}", {"is_active": False}),
        ("POST", f"/api/v1/users/{other}/disable", None),
    ]:
        response = client.request(method, path, json=body, headers=mine)
        assert response.status_code in (403, 404), (path, response.text)
    platform_view = {
        u["username"]: u for u in client.get("/api/v1/users", headers=admin_headers).json()
    }
    assert platform_view["fjordby-raadgiver"]["role"] == "counsellor"
    assert platform_view["fjordby-raadgiver"]["is_active"] is True
    assert platform_view["demo-admin"]["is_active"] is True

    password = "et-langt-kodeord-til-test"  # noqa: S105 - test data
    elsewhere = client.post(
        "/api/v1/users",
        json={
            "username": "ny-i-fjordby",
            "password": password,
            "role": "counsellor",
            "organisation": "fjordby",
        },
        headers=mine,
    )
    assert elsewhere.status_code == 403 and "egen organisation" in elsewhere.json()["detail"]
    own = client.post(
        "/api/v1/users",
        json={"username": "ny-i-aaby", "password": password, "role": "counsellor"},
        headers=mine,
    )
    assert own.status_code == 201, own.text
    assert own.json()["organisation"]["slug"] == "aaby", "an organisation admin's users are its own"


def test_only_a_platform_admin_creates_organisations_and_moves_them_between_networks(
    client: TestClient, admin_headers, network, clock
):
    mine = network.staff["aaby-admin"]
    body = {"slug": "nyby", "name": "Nyby Kommune", "kind": "municipality"}
    refused = client.post("/api/v1/organisations", json=body, headers=mine)
    assert refused.status_code == 403 and "platform-admin" in refused.json()["detail"]
    assert client.get("/api/v1/organisations/nyby").status_code == 404
    counsellor = client.post("/api/v1/organisations", json=body, headers=network.counsellor("aaby"))
    assert counsellor.status_code == 403
    leaving = client.patch("/api/v1/organisations/aaby", json={"leave_network": True}, headers=mine)
    assert leaving.status_code == 403
    assert client.get("/api/v1/organisations/aaby").json()["network"]["slug"] == "faelles"
    assert client.post("/api/v1/organisations", json=body, headers=admin_headers).status_code == 201


def test_an_organisation_admin_changes_its_own_page_and_no_one_elses(
    client: TestClient, network, clock
):
    mine = network.staff["aaby-admin"]
    info = [
        {
            "title": "Åby Ungeråd",
            "text": "Kom forbi uden aftale.",
            "phone": "70 11 22 33",
            "address": "Skolegade 2, Åby",
            "source": "Åby Kommune (testdata)",
        }
    ]
    changed = client.patch(
        "/api/v1/organisations/aaby",
        json={"presentation": "Vi er Åbys rådgivning for unge.", "local_info": info},
        headers=mine,
    )
    assert changed.status_code == 200, changed.text
    page = client.get("/api/v1/organisations/aaby").json()
    assert page["presentation"] == "Vi er Åbys rådgivning for unge."
    assert [(i["title"], i["phone"]) for i in page["local_info"]] == [
        ("Åby Ungeråd", "70 11 22 33")
    ]

    for slug in ("fjordby", "faelles", "default"):
        refused = client.patch(
            f"/api/v1/organisations/{slug}", json={"presentation": "Overtaget"}, headers=mine
        )
        assert refused.status_code == 403, slug
        assert client.get(f"/api/v1/organisations/{slug}").json()["presentation"] != "Overtaget"


# -- the public side --------------------------------------------------------------------------


def test_the_public_organisation_list_and_pages_need_no_login_and_show_no_staff(
    client: TestClient, network, clock
):
    listed = client.get("/api/v1/organisations")
    assert listed.status_code == 200
    by_slug = {o["slug"]: o for o in listed.json()}
    assert set(by_slug) == {"default", "faelles", "aaby", "bakkeby", "fjordby"}
    assert by_slug["aaby"]["page"] == "/ung/aaby" and by_slug["default"]["page"] == "/"
    assert by_slug["aaby"]["open_now"] is True and by_slug["fjordby"]["open_now"] is False
    page = client.get("/api/v1/organisations/aaby")
    assert page.status_code == 200
    body = page.json()
    assert body["name"] == "Åby Kommune" and body["network"]["slug"] == "faelles"
    assert body["local_info"][0]["phone"] == "11 22 33 44"
    assert [h["text"] for h in body["hours"]] == ["kl. 12-16"] * 5
    network_page = client.get("/api/v1/organisations/faelles").json()
    assert {m["slug"] for m in network_page["members"]} == {"aaby", "bakkeby"}
    everything = listed.text + page.text + client.get("/api/v1/organisations/faelles").text
    for username, _role, _organisation in NETWORK_STAFF:
        assert username not in everything
    for word in ("username", "password", "demo", "user_id", "counsellor_id", "email"):
        assert word not in everything, word
    missing = client.get("/api/v1/organisations/ukendt-by")
    assert missing.status_code == 404 and missing.json()["detail"] == "Organisationen findes ikke."


def test_a_municipality_page_exists_only_for_a_known_slug(client: TestClient, network, clock):
    known = client.get("/ung/aaby")
    assert known.status_code == 200 and known.headers["content-type"].startswith("text/html")
    for unknown in ("/ung/ukendt-by", "/ung/AABY", "/ung/aaby%20x"):
        response = client.get(unknown)
        assert response.status_code == 404, unknown
        assert "Siden findes ikke" in response.text and "112" in response.text


def test_a_conversation_on_an_unknown_page_is_refused_in_danish(client: TestClient, network, clock):
    response = client.post("/api/v1/conversations", json={"organisation": "ukendt-by"})
    assert response.status_code == 404  # well-formed, but no such organisation
    assert response.json()["detail"] == (
        "Den kommune eller det tilbud findes ikke her. Tjek adressen på siden."
    )
    started = client.post("/api/v1/conversations", json={"organisation": "aaby"})
    assert started.status_code == 201
    assert started.json()["organisation"] == {"slug": "aaby", "name": "Åby Kommune"}


# -- referral ---------------------------------------------------------------------------------


def test_a_referral_moves_the_conversation_audited_and_tells_the_young_person_where(
    client: TestClient, admin_headers, internal_headers, network, clock
):
    clock.at(MONDAY, 15, 30)
    young = waiting_young(client, internal_headers, "faelles")
    clock.at(MONDAY, 15, 40)
    later_in_aaby = waiting_young(client, internal_headers, "aaby")
    clock.at(MONDAY, 15, 45)
    national = network.counsellor("faelles")
    assert claim(client, national) == young.id
    client.post(
        f"/api/v1/conversations/{young.id}/reply",
        json={"text": "Hej, jeg er her"},
        headers=national,
    )
    before = young.view(client)

    targets = client.get("/api/v1/counsellor/referral-targets", headers=national).json()
    aaby = next(t for t in targets if t["slug"] == "aaby")
    assert aaby["open_now"] is True and "local_follow_up" in [r["code"] for r in aaby["reasons"]]

    path = f"/api/v1/counsellor/conversations/{young.id}/refer"
    for body in (
        {"organisation": "aaby", "reason": "fordi"},
        {"organisation": "ukendt-by", "reason": "local_follow_up"},
    ):
        refused = client.post(path, json=body, headers=national)
        assert refused.status_code == 422, refused.text
    assert (
        client.post(
            path, json={"organisation": "aaby", "reason": "fordi"}, headers=national
        ).json()["detail"]
        == "Vælg en grund til henvisningen."
    )
    assert young.view(client)["status"] == "active", "a refused referral changes nothing"

    clock.at(MONDAY, 15, 50)
    referred = client.post(
        path, json={"organisation": "aaby", "reason": "local_follow_up"}, headers=national
    )
    assert referred.status_code == 200, referred.text
    assert referred.json()["organisation"] == {"slug": "aaby", "name": "Åby Kommune"}

    view = young.view(client)
    assert view["status"] == "queued" and view["risk"] == before["risk"]
    assert view["queue"]["queue"] == {"slug": "aaby", "name": "Åby Kommune"}
    assert (
        view["queue"]["queue_text"] == "En rådgiver har sendt din samtale videre til Åby Kommune."
    )
    assert view["queue"]["position"] == 1, "it keeps the time it was first queued"
    assert [m["id"] for m in view["messages"][: len(before["messages"])]] == [
        m["id"] for m in before["messages"]
    ], "the transcript is kept"
    notice = view["messages"][-1]
    assert notice["sender"] == "bot" and "Åby Kommune" in notice["text"]

    assert queue_ids(client, network.counsellor("aaby")) == [young.id, later_in_aaby.id]
    assert (
        client.get(f"/api/v1/counsellor/conversations/{young.id}", headers=national).status_code
        == 404
    )
    trail = client.get(f"/api/v1/audit?conversation_id={young.id}", headers=admin_headers).json()
    referral = [e for e in trail if e["action"] == "referred"]
    assert len(referral) == 1 and referral[0]["username"] == "faelles-raadgiver"


def test_only_the_holder_refers_an_active_conversation(
    client: TestClient, admin_headers, internal_headers, network, clock
):
    young = waiting_young(client, internal_headers, "aaby")
    assert claim(client, network.counsellor("aaby")) == young.id
    body = {"organisation": "faelles", "reason": "opening_hours"}
    taken = client.post(
        f"/api/v1/counsellor/conversations/{young.id}/refer", json=body, headers=admin_headers
    )
    assert taken.status_code == 409 and "ikke din" in taken.json()["detail"]
    same = client.post(
        f"/api/v1/counsellor/conversations/{young.id}/refer",
        json={"organisation": "aaby", "reason": "opening_hours"},
        headers=network.counsellor("aaby"),
    )
    assert same.status_code == 422, "already in that queue"
    assert young.view(client)["status"] == "active"


def test_an_organisation_admin_reads_only_its_own_organisations_audit_trail(
    client: TestClient, internal_headers, network, clock
):
    theirs = waiting_young(client, internal_headers, "fjordby")
    assert claim(client, network.counsellor("fjordby")) == theirs.id
    trail = client.get("/api/v1/audit", headers=network.staff["aaby-admin"])
    assert trail.status_code in (200, 403)
    if trail.status_code == 200:
        assert "fjordby-raadgiver" not in trail.text
        assert theirs.id not in trail.text
    filtered = client.get(
        f"/api/v1/audit?conversation_id={theirs.id}", headers=network.staff["aaby-admin"]
    )
    assert filtered.status_code in (403, 404) or filtered.json() == []
