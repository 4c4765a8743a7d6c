"""Development data: the demo users and an example calendar (evenings Mon-Thu, Christmas closed),
and in development a demo network (docs/organisations.md): the default organisation becomes the
shared network "Fælleschatten" with a rota staffed by two member municipalities, plus one
municipality of its own. The municipalities are invented; their local information says so."""

from __future__ import annotations

import logging
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.models import Organisation, ShiftException, User, WeeklyShift
from handoff_service.organisations import default_organisation
from handoff_service.security import hash_password

logger = logging.getLogger(__name__)

DEMO_USERS = (
    ("demo", "counsellor"),
    ("demo-traener", "trainer"),
    ("demo-admin", "admin"),
    ("demo-leder", "leader"),
)
EXAMPLE_SHIFTS = [(weekday, time(17), time(21), 2) for weekday in range(4)]  # Mon-Thu 17-21
EXAMPLE_CLOSED_DATES = ((12, 24, "Juleaften"), (12, 25, "Juledag"), (12, 31, "Nytårsaften"))


def upcoming_holidays(today: date) -> list[tuple[date, str]]:
    """The example closed dates that fall within the coming year."""
    found = []
    for year in (today.year, today.year + 1):
        for month, day, name in EXAMPLE_CLOSED_DATES:
            if today <= (on_date := date(year, month, day)) < today + timedelta(days=365):
                found.append((on_date, name))
    return found


DEMO_NETWORK_NAME = "Fælleschatten"
DEMO_NETWORK_PRESENTATION = (
    "Fælleschatten er en anonym chat for børn og unge fra 12 til 24 år, der vokser op med "
    "alkohol eller stoffer i familien. Rådgiverne kommer fra kommunerne i netværket og deler "
    "vagterne, så der er åbent flere aftener om ugen."
)
CONFIDENTIALITY = (
    "Du er anonym. Vi kan ikke se, hvem du er, og vi gemmer ikke din IP-adresse. Rådgiverne har "
    "tavshedspligt. Fortæller du, at et barn eller en ung er i fare, kan en rådgiver have pligt "
    "til at gøre noget, men vi fortæller dig altid først, hvad der sker."
)
DEMO_SOURCE = "Demo-data: en opfundet kommune. Erstat med kommunens egne godkendte oplysninger."
#: (slug, name, member of the network, weekly hours [(weekday, start, end)], presentation)
DEMO_MUNICIPALITIES = (
    (
        "aaby",
        "Åby Kommune",
        True,
        [(0, 12, 16), (1, 12, 16), (2, 12, 16), (3, 19, 21), (4, 10, 14)],
        "Åby Kommunes rusmiddelrådgivning for unge har sin egen chat. Når vi har lukket, svarer "
        "rådgiverne i Fælleschatten.",
    ),
    (
        "bakkeby",
        "Bakkeby Kommune",
        True,
        [(3, 16, 18)],
        "Bakkeby Kommunes familierådgivning chatter torsdag eftermiddag. De andre dage svarer "
        "rådgiverne i Fælleschatten.",
    ),
    (
        "fjordby",
        "Fjordby Kommune",
        False,
        [(1, 15, 19)],
        "Fjordby Kommunes ungerådgivning har en lokal chat tirsdag eftermiddag. Den er ikke en del "
        "af Fælleschatten.",
    ),
)
#: Who staffs each of the network's evening shifts (Mon-Thu 17-21): the shared rota.
DEMO_ROTA = {0: "aaby", 1: "bakkeby", 2: "aaby", 3: "bakkeby"}
DEMO_ORGANISATION_USERS = (
    ("demo-aaby", "counsellor", "aaby"),
    ("demo-bakkeby", "counsellor", "bakkeby"),
    ("demo-fjordby", "counsellor", "fjordby"),
    ("demo-aaby-admin", "admin", "aaby"),
)


def _local_info(name: str) -> list[dict]:
    return [
        {
            "title": f"Rådgivning for unge i {name}",
            "text": "Du kan få gratis og anonym rådgivning, også uden at dine forældre ved det.",
            "phone": None,
            "address": None,
            "url": None,
            "source": DEMO_SOURCE,
        },
        {
            "title": "BørneTelefonen",
            "text": (
                "Er du under 18, kan du ringe gratis og anonymt til BørneTelefonen hele døgnet."
            ),
            "phone": "116 111",
            "address": None,
            "url": None,
            "source": "Børns Vilkår, bornsvilkar.dk: BørneTelefonen 116 111 (døgnåben)",
        },
    ]


def seed_demo_network(session: Session, settings: Settings) -> None:
    """Once: the default organisation becomes the shared network; three municipalities."""
    if session.scalar(select(Organisation).where(Organisation.slug == "aaby")) is not None:
        return
    network = default_organisation(session)
    network.name = DEMO_NETWORK_NAME
    network.kind = "network"
    network.presentation = DEMO_NETWORK_PRESENTATION
    network.age_range = "12-24 år"
    network.confidentiality = CONFIDENTIALITY
    by_slug = {}
    for slug, name, member, hours, presentation in DEMO_MUNICIPALITIES:
        municipality = Organisation(
            slug=slug,
            name=name,
            kind="municipality",
            network_id=network.id if member else None,
            presentation=presentation,
            age_range="12-24 år",
            confidentiality=CONFIDENTIALITY,
            local_info=_local_info(name),
        )
        session.add(municipality)
        session.flush()
        by_slug[slug] = municipality
        for weekday, start, end in hours:
            session.add(
                WeeklyShift(
                    organisation_id=municipality.id,
                    weekday=weekday,
                    starts_at=time(start),
                    ends_at=time(end),
                    counsellors=1,
                )
            )
    for shift in session.scalars(
        select(WeeklyShift).where(WeeklyShift.organisation_id == network.id)
    ):
        if (staffed_by := DEMO_ROTA.get(shift.weekday)) is not None:
            shift.staffed_by_id = by_slug[staffed_by].id
    for username, role, slug in DEMO_ORGANISATION_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            session.add(
                User(
                    username=username,
                    role=role,
                    organisation_id=by_slug[slug].id,
                    password_hash=hash_password(settings.demo_counsellor_password),
                )
            )
    session.flush()
    logger.info("created the demo network (%d municipalities)", len(DEMO_MUNICIPALITIES))


def seed_development_data(session: Session, settings: Settings) -> None:
    default = default_organisation(session)
    for username, role in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            session.add(
                User(
                    username=username,
                    role=role,
                    # The demo admin is the platform's; the others work for the default one.
                    organisation_id=None if role == "admin" else default.id,
                    password_hash=hash_password(settings.demo_counsellor_password),
                )
            )
            logger.info("created development user %s (%s)", username, role)
    if session.scalar(select(WeeklyShift).limit(1)) is None:
        for weekday, starts_at, ends_at, counsellors in EXAMPLE_SHIFTS:
            session.add(
                WeeklyShift(
                    organisation_id=default.id,
                    weekday=weekday,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    counsellors=counsellors,
                )
            )
    # Holidays only in development: tests must not depend on which day they run.
    if settings.is_development and session.scalar(select(ShiftException).limit(1)) is None:
        today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
        for on_date, name in upcoming_holidays(today):
            session.add(
                ShiftException(
                    organisation_id=default.id, on_date=on_date, kind="closed", note=name
                )
            )
    if settings.is_development:
        session.flush()
        seed_demo_network(session, settings)
    session.commit()
