"""Counsellor, trainer and admin login: argon2 passwords, short JWTs, a growing wait on guessing.

Wrong passwords make the client that typed them wait (per username and client: `LoginGuard` in
handoff_service/ratelimit.py, shared by every process under PostgreSQL); they never lock the
account, so a stranger cannot keep a counsellor out. See docs/reliability.md, "Login that
strangers cannot block".

A login also starts a family of refresh tokens (handoff_service/refresh_tokens.py), sent only as
an HttpOnly, SameSite=Strict cookie on /api/v1/auth: `POST /refresh` swaps it for the next one
and a new access token, `POST /logout` ends every login of the user. docs/web.md, "Sessions that
last a shift".
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from handoff_service.api.deps import CurrentUserDep, RateLimitsDep, SessionDep, SettingsDep
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.models import User
from handoff_service.organisations import organisation_names
from handoff_service.ratelimit import LoginRefusal, retry_after_header
from handoff_service.refresh_tokens import (
    COOKIE_NAME,
    COOKIE_PATH,
    Issued,
    Refused,
    clock,
    revoke_all_for_user,
    rotate,
    start_family,
)
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


def _set_refresh_cookie(response: Response, issued: Issued, settings: Settings, now) -> None:
    response.set_cookie(
        COOKIE_NAME,
        issued.token,
        max_age=max(1, int((issued.family_expires_at - now).total_seconds())),
        path=COOKIE_PATH,
        secure=settings.environment == "production",
        httponly=True,
        samesite="strict",
    )


def _clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path=COOKIE_PATH,
        secure=settings.environment == "production",
        httponly=True,
        samesite="strict",
    )


def _token_out(user: User, settings: Settings, now) -> TokenOut:
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


@router.post("/login", response_model=TokenOut, responses=error_responses(*BODY_ERRORS, 401, 429))
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
) -> TokenOut:
    now = utcnow()
    user = session.scalar(select(User).where(User.username == body.username))
    if user is not None and (user.locked_until is None or user.locked_until <= now):
        # No client is held back on this account any more (an admin unlocked it): waits go.
        limits.logins.lift(body.username)
    attempt = limits.logins.begin(body.username, limits.client_key(request))
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
    issued = start_family(session, user, settings, now)
    session.commit()
    _set_refresh_cookie(response, issued, settings, now)
    return _token_out(user, settings, now)


@router.post("/refresh", response_model=TokenOut, responses=error_responses(401))
def refresh(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A new access token for the refresh cookie, which is swapped for the next one (rotation).

    Authenticated by the `staff_refresh` cookie alone (no bearer: the access token may have run
    out; read from the request, so no 422 can leak its value). A revoked token presented again
    ends the whole family."""
    now = clock()
    result = rotate(session, request.cookies.get(COOKIE_NAME), settings, now)
    if isinstance(result, Refused):
        refusal = JSONResponse({"detail": result.detail}, status.HTTP_401_UNAUTHORIZED)
        _clear_refresh_cookie(refusal, settings)
        return refusal
    issued, user = result
    out = _token_out(user, settings, now)
    answer = JSONResponse(out.model_dump())
    _set_refresh_cookie(answer, issued, settings, now)
    return answer


@router.get("/me", response_model=UserOut, responses=error_responses(401))
def me(user: CurrentUserDep, session: SessionDep) -> UserOut:
    """Who is logged in, and for which organisation (None: the whole platform)."""
    names = organisation_names(session)
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        organisation=names.get(user.organisation_id or -1),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
def logout(
    user: CurrentUserDep, session: SessionDep, settings: SettingsDep, response: Response
) -> None:
    # Every token issued before this moment stops working: access tokens and every refresh
    # family of the user (each of their logins, as before refresh tokens).
    user.token_version += 1
    revoke_all_for_user(session, user.id, clock())
    session.commit()
    _clear_refresh_cookie(response, settings)
