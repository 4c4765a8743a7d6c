"""Development data: the demo users and an example calendar (evenings Mon-Thu, Christmas closed)."""

from __future__ import annotations

import logging
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.models import ShiftException, User, WeeklyShift
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


def seed_development_data(session: Session, settings: Settings) -> None:
    for username, role in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            session.add(
                User(
                    username=username,
                    role=role,
                    password_hash=hash_password(settings.demo_counsellor_password),
                )
            )
            logger.info("created development user %s (%s)", username, role)
    if session.scalar(select(WeeklyShift).limit(1)) is None:
        for weekday, starts_at, ends_at, counsellors in EXAMPLE_SHIFTS:
            session.add(
                WeeklyShift(
                    weekday=weekday, starts_at=starts_at, ends_at=ends_at, counsellors=counsellors
                )
            )
    # Holidays only in development: tests must not depend on which day they run.
    if settings.is_development and session.scalar(select(ShiftException).limit(1)) is None:
        today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
        for on_date, name in upcoming_holidays(today):
            session.add(ShiftException(on_date=on_date, kind="closed", note=name))
    session.commit()
