"""The admin edits the shift calendar through the API; the service status follows at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.utils.clock import open_now_window
from tests.utils.service import start

CPH = ZoneInfo("Europe/Copenhagen")


def local_now() -> datetime:
    return datetime.now(CPH)


def clear_weekly(client: TestClient, admin_headers) -> None:
    for shift in client.get("/api/v1/shifts", headers=admin_headers).json()["weekly"]:
        assert (
            client.delete(f"/api/v1/shifts/weekly/{shift['id']}", headers=admin_headers).status_code
            == 204
        )


def test_development_seed_has_evening_shifts_monday_to_thursday(
    client: TestClient, counsellor_headers
):
    calendar = client.get("/api/v1/shifts", headers=counsellor_headers).json()
    assert calendar["timezone"] == "Europe/Copenhagen"
    assert [(s["weekday_name"], s["starts_at"], s["ends_at"]) for s in calendar["weekly"]] == [
        (day, "17:00:00", "21:00:00") for day in ("mandag", "tirsdag", "onsdag", "torsdag")
    ]
    assert calendar["upcoming"], "the next two weeks hold shifts"
    assert all("kl. 17-21" in window["text"] for window in calendar["upcoming"])


def test_admin_adds_changes_and_removes_a_weekly_shift(client: TestClient, admin_headers):
    created = client.post(
        "/api/v1/shifts/weekly",
        json={"weekday": 6, "starts_at": "18:00", "ends_at": "22:30", "counsellors": 1},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    shift = created.json()
    assert shift["weekday_name"] == "søndag" and shift["ends_at"] == "22:30:00"
    changed = client.put(
        f"/api/v1/shifts/weekly/{shift['id']}",
        json={"weekday": 6, "starts_at": "18:00", "ends_at": "23:00", "counsellors": 3},
        headers=admin_headers,
    )
    assert changed.json()["counsellors"] == 3
    sundays = [
        s
        for s in client.get("/api/v1/shifts", headers=admin_headers).json()["weekly"]
        if s["weekday"] == 6
    ]
    assert [(s["ends_at"], s["counsellors"]) for s in sundays] == [("23:00:00", 3)]
    assert (
        client.delete(f"/api/v1/shifts/weekly/{shift['id']}", headers=admin_headers).status_code
        == 204
    )
    assert (
        client.delete(f"/api/v1/shifts/weekly/{shift['id']}", headers=admin_headers).status_code
        == 404
    )


def test_counsellors_and_trainers_read_but_cannot_edit(
    client: TestClient, counsellor_headers, trainer_headers
):
    body = {"weekday": 4, "starts_at": "17:00", "ends_at": "21:00"}
    for headers in (counsellor_headers, trainer_headers):
        assert client.get("/api/v1/shifts", headers=headers).status_code == 200
        refused = client.post("/api/v1/shifts/weekly", json=body, headers=headers)
        assert refused.status_code == 403 and "rolle" in refused.json()["detail"]
    assert client.get("/api/v1/shifts").status_code == 401


def test_bad_shifts_are_refused_with_a_danish_reason(client: TestClient, admin_headers):
    cases = [
        ({"weekday": 7, "starts_at": "17:00", "ends_at": "21:00"}, "weekday"),
        ({"weekday": 1, "starts_at": "17:00", "ends_at": "17:00"}, "andet tidspunkt"),
        ({"weekday": 1, "starts_at": "06:00", "ends_at": "23:00"}, "16 timer"),
        ({"weekday": 1, "starts_at": "kl fem", "ends_at": "21:00"}, "klokkeslæt"),
        ({"weekday": 1, "starts_at": "17:00+02:00", "ends_at": "21:00"}, "dansk tid"),
        ({"weekday": 1, "starts_at": "17:00", "ends_at": "21:00", "counsellors": 0}, "counsellors"),
        ({"weekday": 0, "starts_at": "17:00", "ends_at": "21:00"}, "findes allerede"),
    ]
    for body, reason in cases:
        response = client.post("/api/v1/shifts/weekly", json=body, headers=admin_headers)
        assert response.status_code in (409, 422), (body, response.text)
        assert reason in response.json()["detail"], (body, response.json())


def test_a_shift_over_midnight_is_accepted(client: TestClient, admin_headers):
    response = client.post(
        "/api/v1/shifts/weekly",
        json={"weekday": 4, "starts_at": "22:00", "ends_at": "02:00"},
        headers=admin_headers,
    )
    assert response.status_code == 201, response.text


def test_closing_today_closes_the_service_and_tells_the_bot(
    client: TestClient, admin_headers, internal_headers
):
    clear_weekly(client, admin_headers)
    on_date, starts_at, ends_at = open_now_window(local_now())
    extra = client.post(
        "/api/v1/shifts/exceptions",
        json={
            "on_date": on_date,
            "kind": "extra",
            "starts_at": starts_at,
            "ends_at": ends_at,
            "counsellors": 2,
            "note": "Ekstra\u0000 vagt\n",
        },
        headers=admin_headers,
    )
    assert extra.status_code == 201, extra.text
    assert extra.json()["note"] == "Ekstra vagt"
    status = client.get("/internal/v1/service-status", headers=internal_headers).json()
    assert status["shift_open"] is True and status["counsellors_on_shift"] == 2
    closed = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": on_date, "kind": "closed", "note": "Lukket"},
        headers=admin_headers,
    )
    assert closed.status_code == 201, closed.text
    # A closed date cancels the weekly shifts of that date; the extra shift is its own entry.
    client.delete(f"/api/v1/shifts/exceptions/{extra.json()['id']}", headers=admin_headers)
    status = client.get("/api/v1/service-status").json()
    assert status["shift_open"] is False and status["next_shift_start"] is None
    assert status["eta_minutes"] is None, "no shift planned: no made-up wait"


def test_closed_date_skips_that_days_weekly_shift(client: TestClient, admin_headers):
    today = local_now().date()
    next_monday = today + timedelta(days=(7 - today.weekday()) or 7)
    response = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": next_monday.isoformat(), "kind": "closed"},
        headers=admin_headers,
    )
    assert response.status_code == 201
    upcoming = client.get("/api/v1/shifts?days=21", headers=admin_headers).json()["upcoming"]
    starts = {datetime.fromisoformat(w["starts_at"]).astimezone(CPH).date() for w in upcoming}
    assert next_monday not in starts
    assert next_monday + timedelta(days=1) in starts
    again = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": next_monday.isoformat(), "kind": "closed"},
        headers=admin_headers,
    )
    assert again.status_code == 409


def test_exception_dates_must_be_today_or_later_and_extras_need_times(
    client: TestClient, admin_headers
):
    yesterday = (local_now().date() - timedelta(days=1)).isoformat()
    past = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": yesterday, "kind": "closed"},
        headers=admin_headers,
    )
    assert past.status_code == 422 and "passeret" in past.json()["detail"]
    far = (local_now().date() + timedelta(days=900)).isoformat()
    assert (
        client.post(
            "/api/v1/shifts/exceptions",
            json={"on_date": far, "kind": "closed"},
            headers=admin_headers,
        ).status_code
        == 422
    )
    no_times = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": local_now().date().isoformat(), "kind": "extra"},
        headers=admin_headers,
    )
    assert no_times.status_code == 422 and "start- og sluttidspunkt" in no_times.json()["detail"]
    long_note = client.post(
        "/api/v1/shifts/exceptions",
        json={"on_date": local_now().date().isoformat(), "kind": "closed", "note": "x" * 201},
        headers=admin_headers,
    )
    assert long_note.status_code == 422 and "200" in long_note.json()["detail"]


def test_calendar_changes_give_the_waiting_young_person_a_new_expected_wait(
    client: TestClient, admin_headers
):
    conversation_id, headers, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=headers)
    clear_weekly(client, admin_headers)
    assert (
        client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()["queue"][
            "eta_minutes"
        ]
        is None
    )
    tomorrow = local_now().date() + timedelta(days=1)
    client.post(
        "/api/v1/shifts/exceptions",
        json={
            "on_date": tomorrow.isoformat(),
            "kind": "extra",
            "starts_at": "17:00",
            "ends_at": "21:00",
        },
        headers=admin_headers,
    )
    queue = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers).json()["queue"]
    assert queue["next_shift_text"] == "i morgen kl. 17"
    assert queue["eta_minutes"] > 0


def test_unknown_ids_and_oversized_ids_are_404_or_422_never_500(client: TestClient, admin_headers):
    body = {"weekday": 1, "starts_at": "10:00", "ends_at": "12:00"}
    assert (
        client.put("/api/v1/shifts/weekly/999", json=body, headers=admin_headers).status_code == 404
    )
    huge = client.put(f"/api/v1/shifts/weekly/{2**40}", json=body, headers=admin_headers)
    assert huge.status_code == 422 and "for stor" in huge.json()["detail"]
    assert client.delete("/api/v1/shifts/exceptions/abc", headers=admin_headers).status_code == 422
