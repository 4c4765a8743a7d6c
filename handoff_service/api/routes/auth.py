"""Counsellor, trainer and admin login: argon2 passwords, short JWTs, a growing wait on guessing.

Wrong passwords make the client that typed them wait (per username and client, in memory:
`LoginGuard` in handoff_service/ratelimit.py); they never lock the account, so a stranger cannot
keep a counsellor out. See docs/reliability.md, "Login that strangers cannot block".
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from handoff_service.api.deps import CurrentUserDep, RateLimitsDep, SessionDep, SettingsDep
from handoff_service.db import utcnow
from handoff_service.models import User
from handoff_service.ratelimit import LoginRefusal, client_key, retry_after_header
from handoff_service.schemas import (
    BODY_ERRORS,
    LoginIn,
    TokenOut,
    UserOut,
    error_responses,
)
from handoff_service.security import create_access_token, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=error_responses(503))

WRONG_LOGIN = "Forkert brugernavn eller adgangskode."
TOO_MANY_LOGINS = "For mange loginforsøg på tjenesten lige nu. Vent et minut, og prøv igen."
WAIT_AFTER_WRONG_LOGINS = (
    "For mange forkerte forsøg fra denne enhed. Vent lidt, og prøv igen. "
    "Kan du ikke komme ind, så spørg en admin."
)
# `locked_until` outlasts the client's wait a little, so it is never over before the wait is.
_LOCKED_MARGIN = timedelta(seconds=2)


@router.post("/login", response_model=TokenOut, responses=error_responses(*BODY_ERRORS, 401, 429))
def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
) -> TokenOut:
    now = utcnow()
    user = session.scalar(select(User).where(User.username == body.username))
    if user is not None and (user.locked_until is None or user.locked_until <= now):
        # No client is held back on this account any more (an admin unlocked it): waits go.
        limits.logins.lift(body.username)
    attempt = limits.logins.begin(body.username, client_key(request))
    if isinstance(attempt, LoginRefusal):
        detail = TOO_MANY_LOGINS if attempt.reason == "service" else WAIT_AFTER_WRONG_LOGINS
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail,
            headers=retry_after_header(attempt.retry_after),
        )
    password_ok = verify_password(body.password, user.password_hash if user else None)
    if user is None or not user.is_active or not password_ok:
        if user is not None:
            # For the admins' user list ("locked": some client waits on this account) and their
            # "unlock"; it stops nobody by itself.
            user.failed_logins += 1
            if attempt.delay:
                until = now + timedelta(seconds=attempt.delay) + _LOCKED_MARGIN
                if user.locked_until is None or user.locked_until < until:
                    user.locked_until = until
            session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_LOGIN)
    limits.logins.succeeded(attempt)
    # locked_until stays: other clients' waits on this account go on.
    user.failed_logins = 0
    session.commit()
    token = create_access_token(
        user_id=user.id,
        role=user.role,
        token_version=user.token_version,
        secret=settings.secret_key,
        minutes=settings.access_token_minutes,
        now=now,
    )
    return TokenOut(
        access_token=token, role=user.role, expires_in=settings.access_token_minutes * 60
    )


@router.get("/me", response_model=UserOut, responses=error_responses(401))
def me(user: CurrentUserDep) -> UserOut:
    return UserOut(id=user.id, username=user.username, role=user.role)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
def logout(user: CurrentUserDep, session: SessionDep) -> None:
    # Every token issued before this moment stops working.
    user.token_version += 1
    session.commit()
