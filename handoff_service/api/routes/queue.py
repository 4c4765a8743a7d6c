"""The counsellor's side: the live queue, claiming, the conversation view and its actions."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import StreamingResponse

from handoff_service import conversations as ops
from handoff_service import organisations, shift_tools, stale_claims, views
from handoff_service import queue as queue_ops
from handoff_service.api.deps import (
    BrokerDep,
    CounsellorConversationDep,
    CounsellorDep,
    DutyToReportDep,
    OwnedConversationDep,
    SessionDep,
    SettingsDep,
    TextsDep,
)
from handoff_service.audit import audit
from handoff_service.db import utcnow
from handoff_service.notify import (
    DASHBOARD,
    conversation_channel,
    dashboard_event,
    publish_messages,
    publish_queue_changed,
    publish_status,
    staff_view_of_dashboard,
)
from handoff_service.organisations import organisation_names, queue_ids_for
from handoff_service.schemas import (
    BODY_ERRORS,
    EVENT_STREAM,
    CloseIn,
    CounsellorConversationOut,
    MessageOut,
    OrganisationRef,
    QueueItemOut,
    ReferIn,
    ReferralTargetOut,
    ReferredOut,
    ReplyIn,
    error_responses,
)
from handoff_service.shift_tools import (
    CannedReplyOut,
    ColleagueOut,
    NoteIn,
    NoteOut,
    ReleaseIn,
    ReleaseReasonOut,
    TransferError,
    TransferIn,
)
from handoff_service.stale_claims import MyConversationOut
from handoff_service.streams import event_stream, reserve_stream, staff_owner

router = APIRouter(prefix="/api/v1", tags=["counsellor"], responses=error_responses(503))


@router.get("/queue", response_model=list[QueueItemOut], responses=error_responses(401, 403))
def waiting_queue(session: SessionDep, user: CounsellorDep, texts: TextsDep) -> list[QueueItemOut]:
    """The conversations waiting in the caller's queues (their organisation's and, if it is a
    member, the network's; every queue for platform staff), the most urgent first."""
    now = utcnow()
    names = organisation_names(session)
    waiting = queue_ops.waiting_conversations(session, queue_ids_for(session, user))
    return [
        views.queue_item(conversation, position, texts, now, names)
        for position, conversation in enumerate(waiting, start=1)
    ]


@router.post(
    "/queue/claim",
    response_model=CounsellorConversationOut,
    responses={204: {"description": "Køen er tom."}, **error_responses(401, 403)},
)
def claim_next(
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
):
    now = utcnow()
    conversation = queue_ops.claim_next(session, user, now)
    if conversation is None:
        session.rollback()
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    session.commit()
    publish_queue_changed(broker, session, settings, now, reason="claim", conversation=conversation)
    return views.counsellor_view(conversation, texts, guidance)


@router.get(
    "/queue/events",
    response_class=StreamingResponse,
    responses={**EVENT_STREAM, **error_responses(401, 403, 429)},
)
async def follow_queue(
    request: Request,
    user: CounsellorDep,
    broker: BrokerDep,
    session: SessionDep,
    settings: SettingsDep,
):
    """The dashboard's live feed: first the waiting count, then one `queue` event per change."""
    queue_ids = queue_ids_for(session, user)
    view = staff_view_of_dashboard(queue_ids)
    snapshot = view(
        "queue", dashboard_event("connected", None, queue_ops.waiting_by_queue(session))
    )
    session.close()
    owner = staff_owner(user.id)
    reserve_stream(broker, owner)
    return event_stream(
        request, broker, DASHBOARD, snapshot, snapshot_event="queue", owner=owner, view=view
    )


@router.get(
    "/counsellor/conversations/{conversation_id}",
    response_model=CounsellorConversationOut,
    responses=error_responses(401, 403, 404, 422),
)
def open_conversation(
    conversation: CounsellorConversationDep,
    session: SessionDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
) -> CounsellorConversationOut:
    audit(session, user, conversation.id, "open")
    session.commit()
    return views.counsellor_view(conversation, texts, guidance)


@router.get(
    "/counsellor/conversations/{conversation_id}/events",
    response_class=StreamingResponse,
    responses={**EVENT_STREAM, **error_responses(401, 403, 404, 422, 429)},
)
async def follow_conversation_as_counsellor(
    request: Request,
    conversation: CounsellorConversationDep,
    user: CounsellorDep,
    broker: BrokerDep,
    session: SessionDep,
):
    audit(session, user, conversation.id, "follow")
    session.commit()
    snapshot = {
        "status": conversation.status,
        "risk": conversation.risk,
        "topic": conversation.topic,
        "queue": None,
    }
    session.close()
    owner = staff_owner(user.id)
    reserve_stream(broker, owner)
    return event_stream(
        request, broker, conversation_channel(conversation.id), snapshot, owner=owner
    )


@router.post(
    "/conversations/{conversation_id}/reply",
    response_model=MessageOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def reply(
    body: ReplyIn,
    conversation: OwnedConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
) -> MessageOut:
    now = utcnow()
    message = views.message_out(ops.add_message(session, conversation, "counsellor", body.text))
    audit(session, user, conversation.id, "reply_for_later" if body.leave_for_later else "reply")
    if body.leave_for_later:
        # A letter: it waits in the conversation until the young person comes back with the token.
        ops.close(session, conversation, user, "answered_letterbox", now)
    session.commit()
    publish_messages(broker, conversation.id, [message])
    if body.leave_for_later:
        publish_queue_changed(
            broker, session, settings, now, reason="close", conversation=conversation
        )
    return message


@router.post(
    "/conversations/{conversation_id}/release",
    response_model=CounsellorConversationOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def release(
    conversation: OwnedConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
    body: ReleaseIn | None = None,
) -> CounsellorConversationOut:
    """Back to the queue at the old place; the body is optional: `{reason}` is one of the fixed
    codes of GET /api/v1/counsellor/release-reasons, kept in the audit row."""
    queue_ops.release(session, conversation, user, reason=body.reason if body else None)
    session.commit()
    publish_queue_changed(
        broker, session, settings, utcnow(), reason="release", conversation=conversation
    )
    return views.counsellor_view(conversation, texts, guidance)


@router.post(
    "/conversations/{conversation_id}/close",
    response_model=CounsellorConversationOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def close(
    body: CloseIn,
    conversation: OwnedConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
) -> CounsellorConversationOut:
    now = utcnow()
    ops.close(session, conversation, user, body.outcome, now)
    session.commit()
    # A close changes the recent handling times, so every waiting person's expected wait.
    publish_queue_changed(broker, session, settings, now, reason="close", conversation=conversation)
    return views.counsellor_view(conversation, texts, guidance)


@router.post(
    "/conversations/{conversation_id}/anonymity-broken",
    response_model=CounsellorConversationOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def mark_anonymity_broken(
    conversation: OwnedConversationDep,
    session: SessionDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
) -> CounsellorConversationOut:
    """Records that the young person identified themself, and shows the duty-to-report guidance."""
    if conversation.anonymity_broken_at is None:
        conversation.anonymity_broken_at = utcnow()
        audit(session, user, conversation.id, "anonymity_broken")
        session.commit()
    return views.counsellor_view(conversation, texts, guidance)


# -- nobody is left hanging (handoff_service/stale_claims.py) --------------------------------


@router.get(
    "/counsellor/mine",
    response_model=list[MyConversationOut],
    responses=error_responses(401, 403),
)
def my_conversations(
    session: SessionDep, user: CounsellorDep, texts: TextsDep
) -> list[MyConversationOut]:
    """The caller's "Mine samtaler": their active conversations and the answers they left for later
    that the young person has not come back to. Never message text."""
    return stale_claims.my_conversations(session, user, texts)


@router.post(
    "/counsellor/conversations/{conversation_id}/keepalive",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422),
)
def keep_alive(conversation: OwnedConversationDep, session: SessionDep) -> Response:
    """The page's "Jeg er her stadig": the holding counsellor is there, the claim not stale."""
    stale_claims.keep_alive(session, conversation, utcnow())
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- the shift's tools (handoff_service/shift_tools.py) --------------------------------------


@router.get(
    "/counsellor/canned-replies",
    response_model=list[CannedReplyOut],
    responses=error_responses(401, 403),
)
def canned_replies(user: CounsellorDep) -> list[CannedReplyOut]:
    """Approved content only, rendered with the real numbers; the page fills the reply box with
    one, and nothing is sent until the counsellor presses send."""
    return shift_tools.canned_replies()


@router.get(
    "/counsellor/release-reasons",
    response_model=list[ReleaseReasonOut],
    responses=error_responses(401, 403),
)
def release_reasons(user: CounsellorDep) -> list[ReleaseReasonOut]:
    """The fixed reasons for putting a conversation back in the queue (code, Danish label)."""
    return [
        ReleaseReasonOut(code=code, label=label)
        for code, label in shift_tools.RELEASE_REASONS.items()
    ]


@router.get(
    "/counsellor/colleagues",
    response_model=list[ColleagueOut],
    responses=error_responses(401, 403),
)
def colleagues(session: SessionDep, user: CounsellorDep) -> list[ColleagueOut]:
    """Who a conversation can be handed to: the other active counsellors and admins."""
    return shift_tools.colleagues(session, user)


@router.get(
    "/counsellor/conversations/{conversation_id}/notes",
    response_model=list[NoteOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
def list_notes(conversation: OwnedConversationDep, session: SessionDep) -> list[NoteOut]:
    """The internal notes of the caller's conversation: staff only, never the young person's."""
    return shift_tools.list_notes(session, conversation)


@router.post(
    "/counsellor/conversations/{conversation_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def add_note(
    body: NoteIn, conversation: OwnedConversationDep, session: SessionDep, user: CounsellorDep
) -> NoteOut:
    """An internal note: audited "note_added", never the text; nothing goes to any stream."""
    note = shift_tools.add_note(session, conversation, user, body.text)
    session.commit()
    return note


@router.post(
    "/counsellor/conversations/{conversation_id}/transfer",
    response_model=CounsellorConversationOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def transfer(
    body: TransferIn,
    conversation: OwnedConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
    texts: TextsDep,
    guidance: DutyToReportDep,
) -> CounsellorConversationOut:
    """Hands the caller's active conversation to a named colleague (it stays active)."""
    try:
        colleague, notice = shift_tools.transfer(session, conversation, user, body.to_user_id)
    except TransferError as refused:
        session.rollback()
        raise HTTPException(refused.status, refused.detail) from None
    session.commit()
    publish_messages(broker, conversation.id, [views.message_out(notice)])
    waiting = queue_ops.waiting_by_queue(session)
    # Every dashboard re-reads its queue and "Mine samtaler"; the colleague's also says why.
    broker.publish(DASHBOARD, "queue", dashboard_event("transfer", conversation, waiting))
    broker.publish(
        DASHBOARD,
        "transfer",
        {
            "conversation_id": conversation.id,
            "counsellor_id": colleague.id,
            "from_counsellor_id": user.id,
        },
    )
    return views.counsellor_view(conversation, texts, guidance)


@router.get(
    "/counsellor/referral-targets",
    response_model=list[ReferralTargetOut],
    responses=error_responses(401, 403),
)
def referral_targets(session: SessionDep, user: CounsellorDep) -> list[ReferralTargetOut]:
    """Where a conversation can be referred: every organisation, with the reasons to choose."""
    return organisations.referral_targets(session, utcnow())


@router.post(
    "/counsellor/conversations/{conversation_id}/refer",
    response_model=ReferredOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def refer(
    body: ReferIn,
    conversation: CounsellorConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    user: CounsellorDep,
) -> ReferredOut:
    """Refer a waiting conversation, or the caller's own active one, to another organisation's
    queue (the national → municipal case): transcript and triage kept, place in the order kept;
    the young person is told where and gets the new place and expected wait."""
    target = organisations.by_slug(session, body.organisation)
    if target is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Organisationen findes ikke.")
    was_active = conversation.status == "active"
    left_queue = conversation.organisation_id
    try:
        organisations.refer(session, conversation, user, target, body.reason)
    except organisations.ReferralError as refused:
        session.rollback()
        raise HTTPException(refused.status, refused.detail) from None
    now = utcnow()
    info = queue_ops.queue_info(session, settings, conversation, now)
    notice = ops.add_message(
        session, conversation, "bot", info.queue_text if info and info.queue_text else target.name
    )
    session.commit()
    publish_messages(broker, conversation.id, [views.message_out(notice)])
    publish_queue_changed(
        broker,
        session,
        settings,
        now,
        reason="referred",
        conversation=conversation,
        previous_organisation_id=left_queue,
    )
    if was_active:
        publish_status(broker, conversation, info.model_dump(mode="json") if info else None)
    return ReferredOut(
        conversation_id=conversation.id,
        organisation=OrganisationRef(slug=target.slug, name=target.name),
        queue=info,
    )
