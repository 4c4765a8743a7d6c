"""Typed dependencies, so route signatures read like sentences."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.domain.status import ConversationStatus
from handoff_service.events import EventBroker
from handoff_service.models import Conversation, User
from handoff_service.organisations import may_see_conversation
from handoff_service.rasa_client import RasaClient
from handoff_service.ratelimit import RateLimits, retry_after_header
from handoff_service.security import conversation_token_matches, decode_access_token

NOT_FOUND = "Samtalen findes ikke, eller koden til den passer ikke."
TOO_MANY_MESSAGES = (
    "Du skriver meget hurtigt. Vent et øjeblik, og send så igen. Er du i fare, så ring 112."
)
_CONVERSATION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Integer path parameters stay inside the database's 32-bit integer columns.
MAX_ROW_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


def is_conversation_id(value: str) -> bool:
    """Only well-formed ids reach the database (no control bytes, no oversized strings)."""
    return _CONVERSATION_ID.fullmatch(value) is not None


def find_conversation(session: Session, conversation_id: str) -> Conversation | None:
    return (
        session.get(Conversation, conversation_id) if is_conversation_id(conversation_id) else None
    )


_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_broker(request: Request) -> EventBroker:
    return request.app.state.broker


def get_texts(request: Request) -> dict[str, Any]:
    return request.app.state.texts


def get_duty_to_report(request: Request) -> dict[str, Any]:
    return request.app.state.duty_to_report


def get_rate_limits(request: Request) -> RateLimits:
    return request.app.state.rate_limits


def get_rasa(request: Request) -> RasaClient:
    return request.app.state.rasa


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
BrokerDep = Annotated[EventBroker, Depends(get_broker)]
TextsDep = Annotated[dict[str, Any], Depends(get_texts)]
DutyToReportDep = Annotated[dict[str, Any], Depends(get_duty_to_report)]
RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def young_conversation(
    conversation_id: str, session: SessionDep, credentials: BearerDep
) -> Conversation:
    """The conversation the bearer token opens. Unknown id and wrong token look the same."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Mangler koden til samtalen (Authorization: Bearer).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    conversation = find_conversation(session, conversation_id)
    token_hash = conversation.token_hash if conversation else "0" * 64
    if not conversation_token_matches(credentials.credentials, token_hash) or conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return conversation


YoungConversationDep = Annotated[Conversation, Depends(young_conversation)]


def check_message_rate(limits: RateLimits, conversation: Conversation) -> None:
    """429 in Danish when the young person has written too fast (per conversation)."""
    wait = limits.messages.hit(conversation.id)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_MESSAGES, headers=retry_after_header(wait)
        )


def writing_young_conversation(
    conversation: YoungConversationDep, limits: RateLimitsDep
) -> Conversation:
    """The young person's conversation, if they have not written too fast (per conversation)."""
    check_message_rate(limits, conversation)
    return conversation


WritingConversationDep = Annotated[Conversation, Depends(writing_young_conversation)]


def current_user(session: SessionDep, settings: SettingsDep, credentials: BearerDep) -> User:
    unauthorised = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Du er ikke logget ind, eller dit login er udløbet.",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None:
        raise unauthorised
    claims = decode_access_token(credentials.credentials, settings.secret_key)
    if claims is None:
        raise unauthorised
    # Only a user id we could have issued reaches the database: a huge or odd `sub` is a 401,
    # never an integer overflow in the driver.
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        raise unauthorised
    user_id = int(subject)
    if user_id > MAX_ROW_ID:
        raise unauthorised
    user = session.get(User, user_id)
    if user is None or not user.is_active or claims.get("ver") != user.token_version:
        raise unauthorised
    return user


CurrentUserDep = Annotated[User, Depends(current_user)]


def require_role(*roles: str):
    def checker(user: CurrentUserDep) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "Din rolle giver ikke adgang til dette.")
        return user

    return checker


CounsellorDep = Annotated[User, Depends(require_role("counsellor", "admin"))]
TrainerDep = Annotated[User, Depends(require_role("trainer", "admin"))]
AdminDep = Annotated[User, Depends(require_role("admin"))]
# A leader sees the statistics and nothing else (docs/statistics.md).
LeaderDep = Annotated[User, Depends(require_role("leader", "admin"))]


def counsellor_conversation(
    conversation_id: str, session: SessionDep, user: CounsellorDep
) -> Conversation:
    """A conversation in one of the caller's queues, or held by the caller; any other is 404, as
    if it did not exist (organisations see only their own, docs/organisations.md)."""
    conversation = find_conversation(session, conversation_id)
    if conversation is None or not may_see_conversation(session, user, conversation):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Samtalen findes ikke.")
    return conversation


CounsellorConversationDep = Annotated[Conversation, Depends(counsellor_conversation)]


def owned_conversation(
    conversation: CounsellorConversationDep, user: CounsellorDep
) -> Conversation:
    """A conversation the caller has claimed and that is still open."""
    if conversation.status != ConversationStatus.ACTIVE or conversation.counsellor_id != user.id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "Samtalen er ikke din lige nu. Tag den fra køen først."
        )
    return conversation


OwnedConversationDep = Annotated[Conversation, Depends(owned_conversation)]


def internal_caller(request: Request, settings: SettingsDep) -> None:
    presented = request.headers.get("x-internal-token", "")
    if not hmac.compare_digest(presented.encode(), settings.internal_api_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "internal API: wrong or missing token")


InternalDep = Annotated[None, Depends(internal_caller)]


def typing_party(
    conversation_id: str, session: SessionDep, settings: SettingsDep, credentials: BearerDep
) -> tuple[Conversation, str]:
    """Who is typing: the young person (their token) or the counsellor holding it (staff JWT)."""
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Mangler koden til samtalen (Authorization: Bearer).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    conversation = find_conversation(session, conversation_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    if conversation_token_matches(credentials.credentials, conversation.token_hash):
        return conversation, "young"
    if credentials.credentials.count(".") != 2:  # not a JWT: a wrong conversation token
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    user = current_user(session, settings, credentials)
    if user.role not in ("counsellor", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Din rolle giver ikke adgang til dette.")
    if conversation.status != ConversationStatus.ACTIVE or conversation.counsellor_id != user.id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "Samtalen er ikke din lige nu. Tag den fra køen først."
        )
    return conversation, "counsellor"


TypingPartyDep = Annotated[tuple[Conversation, str], Depends(typing_party)]
