"""Staff sessions that last a shift: rotating refresh tokens in families (issue #13, part 2).

A login returns the short access token (a JWT, ACCESS_TOKEN_MINUTES) and starts a *family* of
refresh tokens. The refresh token travels only in an HttpOnly, SameSite=Strict cookie scoped to
/api/v1/auth (Secure in production): never in a URL, a log line or the page's storage. Only its
SHA-256 is stored. `POST /api/v1/auth/refresh` revokes the token it was given and issues the next
one of the same family with a new access token.

- Reuse: a revoked token presented again means two parties hold it (a stolen cookie): the whole
  family is revoked, so the newest token stops too, and the answer is a Danish 401.
- Idle timeout: a token not used within STAFF_IDLE_MINUTES is over (so the family).
- Absolute lifetime: STAFF_SESSION_HOURS after the login the family is over, refreshed or not.
- Logout, disabling a user and an admin setting a new password revoke every family of the user.

`now` is passed in (or read from :func:`clock`, which tests replace): no sleeping in tests.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.models import RefreshToken, User
from handoff_service.security import hash_refresh_token, new_refresh_token

logger = logging.getLogger(__name__)

COOKIE_NAME = "staff_refresh"
COOKIE_PATH = "/api/v1/auth"

# Danish answers of the refresh route (401): the page shows its "Dit login er udløbet" login.
NO_REFRESH = "Du er ikke logget ind, eller dit login er udløbet. Log ind igen."
EXPIRED = "Dit login er udløbet. Log ind igen for at fortsætte."
REUSED = (
    "Dit login er stoppet af sikkerhedshensyn, fordi et gammelt login blev brugt igen. "
    "Log ind igen."
)


def clock() -> datetime:
    return utcnow()


@dataclass(frozen=True)
class Issued:
    token: str  # the raw token: into the cookie, nowhere else
    family_id: str
    family_expires_at: datetime


@dataclass(frozen=True)
class Refused:
    detail: str


def _add(
    session: Session,
    user: User,
    family_id: str,
    family_expires_at: datetime,
    now: datetime,
    settings: Settings,
) -> Issued:
    token = new_refresh_token()
    session.add(
        RefreshToken(
            token_hash=hash_refresh_token(token),
            user_id=user.id,
            family_id=family_id,
            created_at=now,
            expires_at=min(now + timedelta(minutes=settings.staff_idle_minutes), family_expires_at),
            family_expires_at=family_expires_at,
        )
    )
    return Issued(token, family_id, family_expires_at)


def start_family(session: Session, user: User, settings: Settings, now: datetime) -> Issued:
    """A login: a new family, its first token. The caller commits."""
    family_expires_at = now + timedelta(hours=settings.staff_session_hours)
    return _add(session, user, str(uuid.uuid4()), family_expires_at, now, settings)


def revoke_family(session: Session, family_id: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all_for_user(session: Session, user_id: int, now: datetime | None = None) -> None:
    """Logout, disable, a new password: every login of this user ends. The caller commits."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now or clock())
    )


def rotate(
    session: Session, token: str | None, settings: Settings, now: datetime
) -> tuple[Issued, User] | Refused:
    """The refresh: the next token of the family and its user, or why not. Commits."""
    if not token or len(token) > 200:
        return Refused(NO_REFRESH)
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
    )
    if row is None:
        return Refused(NO_REFRESH)
    user = session.get(User, row.user_id)
    if row.revoked_at is not None:
        family_was_alive = session.scalar(
            select(RefreshToken.id).where(
                RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None)
            )
        )
        revoke_family(session, row.family_id, now)
        if family_was_alive is not None:
            # Never the token: which user, and that their family was ended.
            logger.warning("refresh token reused: family revoked (user %s)", row.user_id)
            audit(session, user, None, "refresh_token_reused", subject_user_id=row.user_id)
        session.commit()
        return Refused(REUSED)
    if now >= row.expires_at or now >= row.family_expires_at:
        revoke_family(session, row.family_id, now)
        session.commit()
        return Refused(EXPIRED)
    if user is None or not user.is_active:
        revoke_family(session, row.family_id, now)
        session.commit()
        return Refused(NO_REFRESH)
    # Revoke only if nobody else did meanwhile: of two refreshes racing with one token, one wins
    # and the other is a reuse.
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        revoke_family(session, row.family_id, now)
        session.commit()
        return Refused(REUSED)
    issued = _add(session, user, row.family_id, row.family_expires_at, now, settings)
    session.commit()
    return issued, user


def family_of(session: Session, token: str | None) -> str | None:
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == hash_refresh_token(token))
    )
