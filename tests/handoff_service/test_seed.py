"""The development seed: demo users, Mon-Thu evening shifts, and Christmas closed as an example."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from handoff_service.main import create_app
from handoff_service.seed import upcoming_holidays


def test_development_start_seeds_the_example_calendar_once(settings):
    development = settings.model_copy(update={"environment": "development"})
    for _ in range(2):  # a restart adds nothing twice
        with TestClient(create_app(development)) as client:
            token = client.post(
                "/api/v1/auth/login",
                json={"username": "demo-admin", "password": "demo-test-password"},
            ).json()["access_token"]
            calendar = client.get(
                "/api/v1/shifts", headers={"Authorization": f"Bearer {token}"}
            ).json()
    assert len(calendar["weekly"]) == 4
    notes = [exception["note"] for exception in calendar["exceptions"]]
    assert sorted(notes) == ["Juleaften", "Juledag", "Nytårsaften"]
    assert all(exception["kind"] == "closed" for exception in calendar["exceptions"])


def test_holidays_are_the_next_ones_within_a_year():
    assert upcoming_holidays(date(2026, 12, 25)) == [
        (date(2026, 12, 25), "Juledag"),
        (date(2026, 12, 31), "Nytårsaften"),
        (date(2027, 12, 24), "Juleaften"),
    ]
