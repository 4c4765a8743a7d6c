"""Several organisations on one platform (issue #16) for tests: a clock the service reads, and a
small network (its organisations created through the API, as a platform admin would).

The network (all hours Danish wall-clock time; weekday 0 = Monday):

- "faelles"  Fælleschatten, a network: every day 15-21, the rota staffed by Åby and Bakkeby;
- "aaby"     Åby Kommune, a member: Monday-Friday 12-16;
- "bakkeby"  Bakkeby Kommune, a member: Thursday 16-18;
- "fjordby"  Fjordby Kommune, not a member: Tuesday 15-19;
- "default"  the platform's default organisation (migration 0012), seeded Monday-Thursday 17-21.

Staff: one counsellor per organisation ("<slug>-raadgiver") and Åby's own admin ("aaby-admin").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff_service.config import Settings
from handoff_service.models import Organisation, User, WeeklyShift
from handoff_service.security import hash_password
from tests.utils.tokens import bearer, signed

CPH = ZoneInfo("Europe/Copenhagen")
STAFF_PASSWORD = "organisation-test-password"  # noqa: S105 - test data

#: A week without a daylight-saving change: Monday 11 January 2027 ... Sunday 17 January.
MONDAY = date(2027, 1, 11)

#: The modules that read the time through ``utcnow`` imported by name. The login's module is
#: not among them, so access tokens are issued and checked by the real clock.
CLOCKED_MODULES = (
    "handoff_service.api.routes.conversations",
    "handoff_service.api.routes.internal",
    "handoff_service.api.routes.organisations",
    "handoff_service.api.routes.queue",
    "handoff_service.api.routes.shifts",
    "handoff_service.api.routes.users",
    "handoff_service.conversations",
    "handoff_service.organisations",
    "handoff_service.queue",
    "handoff_service.shift_tools",
    "handoff_service.young_turn",
)

CRITICAL = {"risk": "critical", "intents": ["suicidal"]}
HIGH = {"risk": "high", "intents": ["violence"]}
NORMAL = {"risk": "normal", "intents": ["request_human"]}


def local(*args: int) -> datetime:
    """A Danish wall-clock time as an aware UTC datetime."""
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def on_day(day: date, hour: int, minute: int = 0) -> datetime:
    return local(day.year, day.month, day.day, hour, minute)


class Clock:
    """What ``utcnow()`` returns inside the service while a test has frozen it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        self.now = on_day(day, hour, minute)
        return self.now


def freeze_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> Clock:
    clock = Clock(now)
    for name in CLOCKED_MODULES:
        monkeypatch.setattr(importlib.import_module(name), "utcnow", clock)
    return clock


# -- building through the API -----------------------------------------------------------------


def create_organisation(
    client: TestClient,
    admin: dict[str, str],
    slug: str,
    name: str,
    kind: str = "municipality",
    network: str | None = None,
    **content,
) -> dict:
    body = {"slug": slug, "name": name, "kind": kind, "network": network, **content}
    response = client.post("/api/v1/organisations", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def add_weekly(
    client: TestClient,
    admin: dict[str, str],
    organisation: str,
    weekday: int,
    starts_at: str,
    ends_at: str,
    staffed_by: str | None = None,
) -> dict:
    response = client.post(
        f"/api/v1/shifts/weekly?organisation={organisation}",
        json={
            "weekday": weekday,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "counsellors": 1,
            "staffed_by": staffed_by,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


def close_date(client: TestClient, admin: dict[str, str], organisation: str, day: date) -> dict:
    response = client.post(
        f"/api/v1/shifts/exceptions?organisation={organisation}",
        json={"on_date": day.isoformat(), "kind": "closed", "note": "Lukket"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


def create_staff(
    client: TestClient, admin: dict[str, str], username: str, role: str, organisation: str | None
) -> dict:
    response = client.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": STAFF_PASSWORD,
            "role": role,
            "organisation": organisation,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Young:
    id: str
    headers: dict[str, str]

    def view(self, client: TestClient) -> dict:
        response = client.get(f"/api/v1/conversations/{self.id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def queue(self, client: TestClient) -> dict:
        queue = self.view(client)["queue"]
        assert queue is not None, "the young person is not waiting"
        return queue


def start_on(client: TestClient, organisation: str | None) -> Young:
    """A young person opens /ung/<organisation> (None: the plain / page) and starts writing."""
    body = {"organisation": organisation} if organisation else None
    response = client.post("/api/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return Young(created["id"], {"Authorization": f"Bearer {created['token']}"})


def hand_off(
    client: TestClient, internal: dict[str, str], young: Young, triage: dict | None = None
) -> dict:
    """The bot hands the conversation to a counsellor (the internal API the action server calls)."""
    response = client.post(
        f"/internal/v1/conversations/{young.id}/handoff", json=triage or NORMAL, headers=internal
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued", response.text
    return response.json()


def waiting_young(
    client: TestClient, internal: dict[str, str], organisation: str | None, triage=None
) -> Young:
    young = start_on(client, organisation)
    hand_off(client, internal, young, triage)
    return young


@dataclass
class Network:
    """The network of the module docstring; `staff` maps a username to its bearer headers."""

    staff: dict[str, dict[str, str]] = field(default_factory=dict)

    def counsellor(self, organisation: str) -> dict[str, str]:
        return self.staff[f"{organisation}-raadgiver"]


NETWORK_SHIFTS = {
    "faelles": [(day, "15:00", "21:00", "aaby" if day % 2 == 0 else "bakkeby") for day in range(7)],
    "aaby": [(day, "12:00", "16:00", None) for day in range(5)],
    "bakkeby": [(3, "16:00", "18:00", None)],
    "fjordby": [(1, "15:00", "19:00", None)],
}
NETWORK_STAFF = (
    ("faelles-raadgiver", "counsellor", "faelles"),
    ("aaby-raadgiver", "counsellor", "aaby"),
    ("bakkeby-raadgiver", "counsellor", "bakkeby"),
    ("fjordby-raadgiver", "counsellor", "fjordby"),
    ("aaby-admin", "admin", "aaby"),
)


@lru_cache
def staff_password_hash() -> str:
    return hash_password(STAFF_PASSWORD)


def staff_headers(settings: Settings, user: User) -> dict[str, str]:
    """An access token as the login issues it (a login per user would cost a password hash)."""
    return bearer(signed(settings, sub=str(user.id), role=user.role, ver=user.token_version))


def headers_for(client: TestClient, settings: Settings, username: str) -> dict[str, str]:
    """A staff member's bearer headers, e.g. the seeded counsellor "demo" of the default one."""
    with client.app.state.session_factory() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return staff_headers(settings, user)


def build_network(client: TestClient, admin: dict[str, str], settings: Settings) -> Network:
    """The organisations through the API; their calendars and staff straight into the database
    (the API's shift and user routes are tested on their own), which keeps each test fast."""
    create_organisation(
        client,
        admin,
        "faelles",
        "Fælleschatten",
        kind="network",
        presentation="Rådgivere fra kommunerne i netværket deler vagterne.",
    )
    create_organisation(
        client,
        admin,
        "aaby",
        "Åby Kommune",
        network="faelles",
        presentation="Åby Kommunes rådgivning for unge.",
        age_range="12-24 år",
        local_info=[
            {
                "title": "Ungerådgivningen i Åby",
                "text": "Gratis og anonym rådgivning.",
                "phone": "11 22 33 44",
                "address": "Torvet 1, Åby",
                "source": "Åby Kommune (testdata)",
            }
        ],
    )
    create_organisation(client, admin, "bakkeby", "Bakkeby Kommune", network="faelles")
    create_organisation(client, admin, "fjordby", "Fjordby Kommune")
    network = Network()
    with client.app.state.session_factory() as session:
        ids = {o.slug: o.id for o in session.scalars(select(Organisation))}
        for slug, shifts in NETWORK_SHIFTS.items():
            for weekday, starts_at, ends_at, staffed_by in shifts:
                session.add(
                    WeeklyShift(
                        organisation_id=ids[slug],
                        weekday=weekday,
                        starts_at=time.fromisoformat(starts_at),
                        ends_at=time.fromisoformat(ends_at),
                        counsellors=1,
                        staffed_by_id=ids[staffed_by] if staffed_by else None,
                    )
                )
        users = [
            User(
                username=username,
                role=role,
                organisation_id=ids[slug],
                password_hash=staff_password_hash(),
            )
            for username, role, slug in NETWORK_STAFF
        ]
        session.add_all(users)
        session.commit()
        for user in users:
            network.staff[user.username] = staff_headers(settings, user)
    return network


def queue_ids(client: TestClient, headers: dict[str, str]) -> list[str]:
    """The ids of the counsellor's waiting list, in its order."""
    response = client.get("/api/v1/queue", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]
