"""The trainer's inbox (handoff_service/trainer_inbox.py, docs/trainer.md) and the counsellor's
"botten misforstod" flag that feeds it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel

from handoff_service import label_export
from handoff_service import trainer_inbox as inbox
from handoff_service.api.deps import (
    CounsellorConversationDep,
    CounsellorDep,
    RowId,
    SessionDep,
    SettingsDep,
    TrainerDep,
)
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.schemas import BODY_ERRORS, error_responses
from handoff_service.trainer_inbox import BatchLabelIn, BatchOut, InboxItemOut, LabelIn

router = APIRouter(prefix="/api/v1", tags=["trainer"], responses=error_responses(503))

Reason = Literal["below_threshold", "ambiguous", "safety_net", "bare_fallback", "counsellor_flag"]
Status = Literal["open", "accepted", "discarded", "all"]
Sort = Literal["confidence", "-confidence", "count", "day"]
Confidence = Annotated[float | None, Query(ge=0, le=1)]


@router.get(
    "/trainer/inbox",
    response_model=list[InboxItemOut],
    responses=error_responses(401, 403, 422),
)
def list_inbox(
    session: SessionDep,
    user: TrainerDep,
    reason: Reason | None = None,
    intent: Annotated[inbox.IntentName | None, Query()] = None,
    min_confidence: Confidence = None,
    max_confidence: Confidence = None,
    day_from: Annotated[date | None, Query(alias="from")] = None,
    day_to: Annotated[date | None, Query(alias="to")] = None,
    status: Status = "open",
    sort: Sort = "confidence",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[InboxItemOut]:
    """The inbox, lowest confidence first by default: scrubbed text, the day, the prediction.
    Never a conversation, never a time finer than the day."""
    items = inbox.list_items(
        session,
        reason=reason,
        intent=intent,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        day_from=day_from,
        day_to=day_to,
        status=status,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return [inbox.item_out(item) for item in items]


def _refused(error: inbox.LabelError | inbox.FlagError, session: SessionDep) -> HTTPException:
    session.rollback()
    return HTTPException(error.status, error.detail)


@router.post(
    "/trainer/inbox/{item_id}/label",
    response_model=InboxItemOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def label(item_id: RowId, body: LabelIn, session: SessionDep, user: TrainerDep) -> InboxItemOut:
    """`{"intent": <intent>}`, `{"discard": true}` or `{"correct": true}` (the bot was right).
    Audited with the label, never the text."""
    try:
        item = inbox.label_item(session, item_id, body, user)
    except inbox.LabelError as refused:
        raise _refused(refused, session) from None
    session.commit()
    return inbox.item_out(item)


@router.post(
    "/trainer/inbox/batch",
    response_model=BatchOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def label_batch(body: BatchLabelIn, session: SessionDep, user: TrainerDep) -> BatchOut:
    """The same label for many items at once; all or nothing."""
    try:
        updated = inbox.label_batch(session, body, user)
    except inbox.LabelError as refused:
        raise _refused(refused, session) from None
    session.commit()
    return BatchOut(updated=updated)


@router.post(
    "/trainer/inbox/{item_id}/undo",
    response_model=InboxItemOut,
    responses=error_responses(401, 403, 404, 422),
)
def undo(item_id: RowId, session: SessionDep, user: TrainerDep) -> InboxItemOut:
    """Back to open, without a label."""
    try:
        item = inbox.undo_label(session, item_id, user)
    except inbox.LabelError as refused:
        raise _refused(refused, session) from None
    session.commit()
    return inbox.item_out(item)


class ExportIn(BaseModel):
    dry_run: bool = False


@router.post(
    "/trainer/export",
    response_model=label_export.ExportReport,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
def export(
    body: ExportIn, session: SessionDep, settings: SettingsDep, user: TrainerDep
) -> label_export.ExportReport:
    """Accepted labels into the Rasa NLU files (`make export-labels` does the same and then
    validates; this route only writes, see `note`). `{"dry_run": true}`: what would be written,
    with the lines. Duplicates are skipped, conflicts reported and not written. Audited as
    labels_exported with counts only."""
    try:
        return label_export.export_labels(
            session,
            settings.nlu_data_dir,
            inbox.local_day(utcnow(), settings.timezone).isoformat(),
            user=user,
            dry_run=body.dry_run,
        )
    except label_export.ExportError:
        session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "NLU-filerne kunne ikke opdateres sikkert. Intet er skrevet.",
        ) from None


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/misunderstood",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422),
)
def misunderstood(
    message_id: RowId,
    conversation: CounsellorConversationDep,
    session: SessionDep,
    settings: SettingsDep,
    user: CounsellorDep,
) -> Response:
    """ "Botten misforstod" on a bot line: the young person's message before it goes into the
    trainer's inbox, scrubbed. The counsellor holding the conversation, or an admin."""
    holds = (
        conversation.status == ConversationStatus.ACTIVE and conversation.counsellor_id == user.id
    )
    if user.role != "admin" and not holds:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "Samtalen er ikke din lige nu. Tag den fra køen først."
        )
    try:
        inbox.flag_misunderstood(session, settings, conversation, message_id, user)
    except inbox.FlagError as refused:
        raise _refused(refused, session) from None
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
