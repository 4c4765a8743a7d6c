"""The internal API the bot's action server calls: service status, handoff and triage updates."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from handoff_service import queue as queue_ops
from handoff_service.api.deps import (
    BrokerDep,
    InternalDep,
    SessionDep,
    SettingsDep,
    find_conversation,
)
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation
from handoff_service.notify import publish_queue_changed, publish_status
from handoff_service.organisations import reroute_waiting
from handoff_service.schemas import (
    BODY_ERRORS,
    ServiceStatus,
    Triage,
    TurnOut,
    error_responses,
)
from handoff_service.triage import merge_triage
from triage_core.risk import RiskLevel

router = APIRouter(
    prefix="/internal/v1",
    tags=["internal"],
    include_in_schema=False,
    responses=error_responses(403, 503),
)


def _conversation(session, conversation_id: str) -> Conversation:
    conversation = find_conversation(session, conversation_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown conversation")
    return conversation


@router.get("/service-status", response_model=ServiceStatus)
def internal_service_status(
    _: InternalDep,
    session: SessionDep,
    settings: SettingsDep,
    conversation_id: str | None = None,
) -> ServiceStatus:
    """Open now, waits and the next opening for the queue `conversation_id` waits in or would
    be handed to now (its page's routing, docs/organisations.md); without one, the default's."""
    conversation = find_conversation(session, conversation_id) if conversation_id else None
    return queue_ops.service_status(session, settings, conversation=conversation)


@router.post(
    "/conversations/{conversation_id}/handoff",
    response_model=TurnOut,
    responses=error_responses(*BODY_ERRORS, 404),
)
def handoff(
    conversation_id: str,
    triage: Triage,
    _: InternalDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
) -> TurnOut:
    now = utcnow()
    conversation = _conversation(session, conversation_id)
    before = (conversation.status, conversation.risk_rank)
    queue_ops.hand_off(session, conversation, triage, now)
    session.commit()
    if reason := queue_ops.queue_change(before, conversation):
        publish_queue_changed(
            broker, session, settings, now, reason=reason, conversation=conversation
        )
    return TurnOut(
        messages=[],
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, now),
    )


@router.post(
    "/conversations/{conversation_id}/triage",
    response_model=TurnOut,
    responses=error_responses(*BODY_ERRORS, 404),
)
def update_triage(
    conversation_id: str,
    triage: Triage,
    _: InternalDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
) -> TurnOut:
    now = utcnow()
    conversation = _conversation(session, conversation_id)
    before = (conversation.status, conversation.risk_rank)
    merge_triage(conversation, triage)
    if conversation.risk_rank > before[1] and conversation.risk == RiskLevel.CRITICAL:
        reroute_waiting(session, now, only=conversation)  # not left in a closed queue
    session.commit()
    if reason := queue_ops.queue_change(before, conversation):
        publish_queue_changed(
            broker, session, settings, now, reason=reason, conversation=conversation
        )
    elif conversation.status != ConversationStatus.QUEUED:
        publish_status(broker, conversation, None)
    return TurnOut(
        messages=[],
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, now),
    )


@router.get(
    "/conversations/{conversation_id}/queue",
    response_model=TurnOut,
    responses=error_responses(404, 422),
)
def queue_state(
    conversation_id: str, _: InternalDep, session: SessionDep, settings: SettingsDep
) -> TurnOut:
    conversation = _conversation(session, conversation_id)
    return TurnOut(
        messages=[],
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, utcnow()),
    )
