"""Counsellor, trainer and admin login: argon2 passwords, short-lived JWTs, lock-out on guessing."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from handoff_service.api.deps import CurrentUserDep, RateLimitsDep, SessionDep, SettingsDep
from handoff_service.db import utcnow
from handoff_service.models import User
from handoff_service.ratelimit import retry_after_header
from handoff_service.schemas import LoginIn, TokenOut, UserOut
from handoff_service.security import create_access_token, verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=5)
WRONG_LOGIN = "Forkert brugernavn eller adgangskode."
TOO_MANY_LOGINS = "For mange loginforsøg på tjenesten lige nu. Vent et minut, og prøv igen."


@router.post("/login", response_model=TokenOut)
def login(
    body: LoginIn, session: SessionDep, settings: SettingsDep, limits: RateLimitsDep
) -> TokenOut:
    # Per username: lock-out after MAX_FAILED_LOGINS. Per service: a ceiling on all attempts, so
    # guessing across many usernames is slowed down too (argon2 also costs CPU per attempt).
    if (wait := limits.logins.hit("service")) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_LOGINS, headers=retry_after_header(wait)
        )
    now = utcnow()
    user = session.scalar(select(User).where(User.username == body.username))
    password_ok = verify_password(body.password, user.password_hash if user else None)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "For mange forsøg. Prøv igen om nogle minutter."
        )
    if user is None or not user.is_active or not password_ok:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_LOGIN)
    user.failed_logins = 0
    user.locked_until = None
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


@router.get("/me", response_model=UserOut)
def me(user: CurrentUserDep) -> UserOut:
    return UserOut(id=user.id, username=user.username, role=user.role)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(user: CurrentUserDep, session: SessionDep) -> None:
    # Every token issued before this moment stops working.
    user.token_version += 1
    session.commit()
