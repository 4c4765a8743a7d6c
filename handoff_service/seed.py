"""Development data: the demo users and an example shift calendar (evening shifts Mon-Thu)."""

from __future__ import annotations

import logging
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.models import User, WeeklyShift
from handoff_service.security import hash_password

logger = logging.getLogger(__name__)

DEMO_USERS = (("demo", "counsellor"), ("demo-traener", "trainer"), ("demo-admin", "admin"))
EXAMPLE_SHIFTS = [(weekday, time(17), time(21), 2) for weekday in range(4)]  # Mon-Thu 17-21


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
    session.commit()
