"""The counsellor's registration after closing (docs/statistics.md): the options, who may save
it, when, which values, and that a new registration replaces the old in the counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff_service.models import AuditEvent, StatCell
from tests.utils.factories import make_user
from tests.utils.service import login_headers, start

VALID = {"topics": ["parent_alcohol", "violence"], "age_band": "13_15", "gender": "pige"}
VALID = {**VALID, "referral": "kommune"}


def closed_conversation(client, counsellor_headers) -> str:
    conversation_id, young, _ = start(client)
    assert client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young)
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 200
    assert client.post(
        f"/api/v1/conversations/{conversation_id}/close",
        json={"outcome": "referred"},
        headers=counsellor_headers,
    ).is_success
    return conversation_id


def registration_cells(session) -> dict[tuple[str, str], int]:
    session.expire_all()
    return {
        (c.metric, c.category): c.count
        for c in session.scalars(select(StatCell).where(StatCell.metric.like("registration_%")))
        if c.count
    }


def test_registration_options_come_from_the_taxonomy_with_danish_labels(
    client, counsellor_headers, trainer_headers
):
    for headers in (counsellor_headers, trainer_headers):
        body = client.get("/api/v1/registration-options", headers=headers).json()
        assert set(body) == {"topics", "age_bands", "genders", "referrals"}
        topics = {o["value"]: o["label"] for o in body["topics"]}
        assert topics["parent_alcohol"] == "Forælder drikker" and "suicidal" in topics
        assert "greet" not in topics and "request_human" not in topics
        assert {o["value"]: o["label"] for o in body["age_bands"]} == {
            "under_13": "Under 13 år",
            "13_15": "13-15 år",
            "16_18": "16-18 år",
            "19_25": "19-25 år",
            "ved_ikke": "Ved ikke",
        }
        assert [o["value"] for o in body["genders"]] == ["pige", "dreng", "andet", "ved_ikke"]
        assert {o["value"]: o["label"] for o in body["referrals"]}["kommune"] == (
            "Kommunen (rådgivning/socialforvaltning)"
        )
    assert client.get("/api/v1/registration-options").status_code == 401


def test_the_counsellor_registers_after_closing_and_may_change_it(
    client, session, counsellor_headers
):
    conversation_id = closed_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}/registration"
    assert client.get(url, headers=counsellor_headers).json() is None
    saved = client.put(url, json=VALID, headers=counsellor_headers)
    assert (saved.status_code, saved.json()) == (200, VALID)
    assert client.get(url, headers=counsellor_headers).json() == VALID
    assert registration_cells(session) == {
        ("registration_topic", "parent_alcohol"): 1,
        ("registration_topic", "violence"): 1,
        ("registration_age", "13_15"): 1,
        ("registration_gender", "pige"): 1,
        ("registration_referral", "kommune"): 1,
    }
    changed = {"topics": ["feeling_sad"], "age_band": "ved_ikke", "gender": "ved_ikke"}
    changed = {**changed, "referral": "ingen"}
    assert client.put(url, json=changed, headers=counsellor_headers).json() == changed
    assert registration_cells(session) == {
        ("registration_topic", "feeling_sad"): 1,
        ("registration_age", "ved_ikke"): 1,
        ("registration_gender", "ved_ikke"): 1,
        ("registration_referral", "ingen"): 1,
    }
    audits = list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.conversation_id == conversation_id,
                AuditEvent.action == "registration_saved",
            )
        )
    )
    assert len(audits) == 2 and all(a.reason is None for a in audits)


def test_only_the_counsellor_who_held_it_or_an_admin_registers(
    client, session, counsellor_headers, admin_headers, trainer_headers
):
    conversation_id = closed_conversation(client, counsellor_headers)
    url = f"/api/v1/conversations/{conversation_id}/registration"
    make_user(session, "kollega", password="kollega-kodeord-1234")  # noqa: S106
    colleague = login_headers(client, "kollega", "kollega-kodeord-1234")
    assert client.put(url, json=VALID, headers=colleague).status_code == 403
    assert client.get(url, headers=colleague).status_code == 403
    assert client.put(url, json=VALID, headers=trainer_headers).status_code == 403
    assert client.put(url, json=VALID, headers=admin_headers).status_code == 200
    assert registration_cells(session)[("registration_age", "13_15")] == 1


def test_registration_waits_until_the_conversation_is_closed(client, counsellor_headers):
    conversation_id, young, _ = start(client)
    assert client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young)
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 200
    response = client.put(
        f"/api/v1/conversations/{conversation_id}/registration",
        json=VALID,
        headers=counsellor_headers,
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Du kan registrere samtalen, når den er lukket."


@pytest.mark.parametrize(
    "change",
    [
        {"topics": []},
        {"topics": ["parent_alcohol"] * 2},
        {"topics": ["greet"]},
        {
            "topics": [
                "parent_alcohol",
                "parent_drugs",
                "violence",
                "feeling_sad",
                "suicidal",
                "self_harm",
            ]
        },  # noqa: E501
        {"age_band": "14"},
        {"gender": "kvinde"},
        {"referral": "politi"},
        {"note": "fri tekst"},
    ],
)
def test_unknown_values_are_a_422(client, session, counsellor_headers, change):
    conversation_id = closed_conversation(client, counsellor_headers)
    response = client.put(
        f"/api/v1/conversations/{conversation_id}/registration",
        json={**VALID, **change},
        headers=counsellor_headers,
    )
    assert response.status_code == 422 and response.json()["detail"]
    assert registration_cells(session) == {}
