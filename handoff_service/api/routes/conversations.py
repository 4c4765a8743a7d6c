"""The young person's side: start a conversation, write, read, follow live."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from handoff_service import conversations as ops
from handoff_service import organisations, views
from handoff_service import queue as queue_ops
from handoff_service.api.deps import (
    NOT_FOUND,
    BrokerDep,
    RasaDep,
    RateLimitsDep,
    SessionDep,
    SettingsDep,
    TextsDep,
    TypingPartyDep,
    WritingConversationDep,
    YoungConversationDep,
    check_message_rate,
)
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation
from handoff_service.notify import (
    conversation_channel,
    publish_messages,
    publish_queue_changed,
    publish_token_replaced,
    publish_typing,
)
from handoff_service.pickup import hash_pickup_code, new_pickup_code, normalise_pickup_code
from handoff_service.rasa_client import BotLine, RasaUnavailable
from handoff_service.ratelimit import retry_after_header
from handoff_service.schemas import (
    BODY_ERRORS,
    EVENT_STREAM,
    ConversationCreated,
    ConversationOut,
    ConversationStartIn,
    MessageIn,
    MessageOut,
    PickedUp,
    PickupIn,
    ServiceStatus,
    Triage,
    TurnOut,
    error_responses,
)
from handoff_service.security import (
    hash_conversation_token,
    new_conversation_token,
)
from handoff_service.stale_claims import keep_alive
from handoff_service.streams import conversation_owner, event_stream, reserve_stream
from handoff_service.texts import emergency_numbers
from handoff_service.young_turn import (
    ConversationGone,
    earlier_turn,
    store_bot_lines,
    young_turn,
)

router = APIRouter(prefix="/api/v1", tags=["young person"], responses=error_responses(503))
logger = logging.getLogger(__name__)

GREETING_TRIGGER = "/greet"
BUSY = (
    "Der er rigtig mange, der skriver lige nu. Prøv igen om et øjeblik. Er du i fare, så ring 112."
)
PICKUP_NOT_FOUND = (
    "Vi kan ikke finde en samtale med den kode. Tjek, at du har skrevet alle 10 tegn, "
    "fx K7QM-3XPD-9T."
)
TOO_MANY_PICKUPS = (
    "Der er prøvet for mange koder lige nu. Vent lidt, og prøv så igen. Er du i fare, så ring 112."
)
TOO_MANY_TYPING = "Vent et øjeblik."
UNKNOWN_ORGANISATION = "Den kommune eller det tilbud findes ikke her. Tjek adressen på siden."


@router.post(
    "/conversations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationCreated,
    responses=error_responses(*BODY_ERRORS, 404, 429),
)
def start_conversation(
    session: SessionDep,
    settings: SettingsDep,
    texts: TextsDep,
    limits: RateLimitsDep,
    rasa: RasaDep,
    body: ConversationStartIn | None = None,
) -> ConversationCreated:
    """A new conversation with the bot, started on an organisation's page (`organisation`: its
    slug, as in /ung/<slug>; without it, the default page /)."""
    origin = None
    if body is not None and body.organisation:
        origin = organisations.by_slug(session, body.organisation)
        if origin is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN_ORGANISATION)
    # A service-wide ceiling on new conversations, so a flood cannot fill the database.
    if (wait := limits.starts.hit("service")) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, BUSY, headers=retry_after_header(wait)
        )
    conversation, token = ops.create_conversation(session, origin)
    pickup_code = new_pickup_code()
    # 30**10 codes: a clash with a live one is so unlikely that the unique index may refuse it.
    normalised = normalise_pickup_code(pickup_code)
    assert normalised is not None  # a code we made is always well-formed
    conversation.pickup_hash = hash_pickup_code(normalised, settings.secret_key)
    session.commit()
    lines: Sequence[str | BotLine]
    try:
        # The service has its own greeting: a slow Rasa does not keep the young person waiting.
        lines = rasa.send(conversation.id, GREETING_TRIGGER, quick=True)
    except RasaUnavailable:
        lines = []
    if not lines:
        lines = texts["greeting_without_bot"]
    session.expire_all()
    greeting = store_bot_lines(session, conversation, lines)
    session.commit()
    logger.info("conversation started")
    return ConversationCreated(
        id=conversation.id,
        token=token,
        pickup_code=pickup_code,
        status=conversation.status,
        messages=greeting,
        organisation=organisations.ref(
            organisations.organisation_of(session, conversation.origin_organisation_id)
        ),
    )


@router.post(
    "/conversations/pickup",
    response_model=PickedUp,
    responses=error_responses(*BODY_ERRORS, 404, 429),
)
def pick_up_conversation(
    body: PickupIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    limits: RateLimitsDep,
) -> PickedUp:
    """Open a conversation with its short pickup code; a fresh token replaces the old one."""
    for limiter, key in (
        (limits.pickup_clients, limits.client_key(request)),
        (limits.pickups, "all"),
    ):
        if (wait := limiter.hit(key)) is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                TOO_MANY_PICKUPS,
                headers=retry_after_header(wait),
            )
    code = normalise_pickup_code(body.code)
    conversation = (
        session.scalar(
            select(Conversation).where(
                Conversation.pickup_hash == hash_pickup_code(code, settings.secret_key)
            )
        )
        if code
        else None
    )
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, PICKUP_NOT_FOUND)
    token = new_conversation_token()
    conversation.token_hash = hash_conversation_token(token)
    session.commit()
    # A page still open with the old token learns that the conversation moved.
    publish_token_replaced(broker, conversation.id)
    logger.info("conversation picked up")
    return PickedUp(id=conversation.id, token=token, status=conversation.status)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=TurnOut,
    responses=error_responses(*BODY_ERRORS, 401, 404, 409, 429),
)
def write_message(
    body: MessageIn,
    conversation: YoungConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    texts: TextsDep,
    rasa: RasaDep,
    limits: RateLimitsDep,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$"),
    ] = None,
) -> TurnOut:
    """The page's client message id comes in the body or as the `Idempotency-Key` header (the
    chat page sends the header); a retry with the same id returns the first turn.

    The per-conversation rate limit counts messages, not attempts: a retry of a message already
    stored is answered without counting, and an attempt the database refused is given back.
    """
    client_message_id = body.client_message_id or idempotency_key
    if client_message_id is not None and (
        first := earlier_turn(session, settings, conversation, client_message_id)
    ):
        return first
    check_message_rate(limits, conversation)
    try:
        # Stored with the lexicon's verdict before Rasa is asked (handoff_service/young_turn.py).
        return young_turn(
            session, settings, broker, texts, conversation, body.text, client_message_id, rasa=rasa
        )
    except SQLAlchemyError:
        limits.messages.refund(conversation.id)
        raise
    except ConversationGone:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND) from None


@router.post(
    "/conversations/{conversation_id}/handoff",
    response_model=TurnOut,
    responses=error_responses(401, 404, 422, 429),
)
def ask_for_counsellor(
    conversation: WritingConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    texts: TextsDep,
) -> TurnOut:
    """The young person's own button: a human, now, whatever the bot understood."""
    now = utcnow()
    replies: list[MessageOut] = []
    if conversation.status in (ConversationStatus.BOT, ConversationStatus.CLOSED):
        queue_ops.hand_off(
            session, conversation, Triage(intents=["request_human"], reason="young_request"), now
        )
        replies = store_bot_lines(session, conversation, texts["queued_by_young_person"])
        session.commit()
        publish_messages(broker, conversation.id, replies)
        publish_queue_changed(
            broker, session, settings, now, reason="handoff", conversation=conversation
        )
    return TurnOut(
        messages=replies,
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, now),
    )


@router.get(
    "/conversations/{conversation_id}",
    response_model=ConversationOut,
    responses=error_responses(401, 404, 422),
)
def read_conversation(
    conversation: YoungConversationDep, session: SessionDep, settings: SettingsDep
) -> ConversationOut:
    origin = organisations.organisation_of(session, conversation.origin_organisation_id)
    return ConversationOut(
        id=conversation.id,
        status=conversation.status,
        risk=conversation.risk,
        topic=conversation.topic,
        queue=queue_ops.queue_info(session, settings, conversation, utcnow()),
        messages=[views.message_out(m) for m in conversation.messages],
        feedback_given=conversation.feedback is not None,
        organisation=organisations.ref(origin),
        organisation_page=organisations.page_path(origin),
    )


@router.get(
    "/conversations/{conversation_id}/events",
    response_class=StreamingResponse,
    responses={**EVENT_STREAM, **error_responses(401, 404, 422, 429)},
)
async def follow_conversation(
    request: Request,
    conversation: YoungConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
) -> StreamingResponse:
    snapshot = {
        "status": conversation.status,
        "risk": conversation.risk,
        "topic": conversation.topic,
        "queue": (
            q.model_dump(mode="json")
            if (q := queue_ops.queue_info(session, settings, conversation, utcnow()))
            else None
        ),
    }
    session.close()
    owner = conversation_owner(conversation.id)
    reserve_stream(broker, owner)
    return event_stream(
        request, broker, conversation_channel(conversation.id), snapshot, owner=owner
    )


@router.post(
    "/conversations/{conversation_id}/typing",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
def typing(
    party: TypingPartyDep,
    session: SessionDep,
    broker: BrokerDep,
    limits: RateLimitsDep,
) -> Response:
    """A typing signal, relayed to the other side of a live conversation: never any text.

    The young person's signal reaches the counsellor holding the conversation (only while it is
    active); the counsellor's reaches the young person. At most one per side every 2 s.
    """
    conversation, sender = party
    if (wait := limits.typing.hit(f"{conversation.id}:{sender}")) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY_TYPING, headers=retry_after_header(wait)
        )
    if conversation.status == ConversationStatus.ACTIVE:
        publish_typing(broker, conversation.id, sender)
        if sender == "counsellor":
            # The counsellor is there: the stale-claim clock restarts (stale_claims.py).
            keep_alive(session, conversation, utcnow())
            session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/emergency-numbers")
def list_emergency_numbers() -> list[dict[str, Any]]:
    return emergency_numbers()


@router.get("/service-status", response_model=ServiceStatus, responses=error_responses(404, 422))
def public_service_status(
    session: SessionDep,
    settings: SettingsDep,
    organisation: Annotated[str | None, Query(max_length=40)] = None,
) -> ServiceStatus:
    """Open now and the expected wait for a young person who writes now on the default page,
    or on `organisation`'s page (where the routing would send them)."""
    if organisation is None:
        return queue_ops.service_status(session, settings)
    origin = organisations.by_slug(session, organisation)
    if origin is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN_ORGANISATION)
    return queue_ops.service_status(session, settings, origin=origin)
