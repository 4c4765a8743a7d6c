"""The trainer's inbox (handoff_service/trainer_inbox.py, docs/trainer.md) and the counsellor's
"botten misforstod" flag that feeds it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from handoff_service import intent_view, label_export
from handoff_service import model_registry as registry
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
from triage_core.taxonomy import INTENTS

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


# --------------------------------------------------------------------------- #
# The model half (handoff_service/model_registry.py, docs/trainer.md): training, comparison,
# promotion, restore. Trainer or admin; figures and intent names only, never text.
# --------------------------------------------------------------------------- #


def _registry_refused(error: registry.RegistryError, session: SessionDep) -> HTTPException:
    session.rollback()
    return HTTPException(error.status, error.detail)


@router.get("/trainer/training", responses=error_responses(401, 403))
def training_status(user: TrainerDep) -> dict[str, Any]:
    """The training job: `state` idle, running, succeeded, failed or cancelled; `step` while
    running (training, loading_…, evaluating_… with `file`, `file_number`, `files`), the elapsed
    seconds, and when it succeeded whether the candidate may be promoted."""
    return registry.training_status(registry.Paths.from_env())


@router.post(
    "/trainer/training",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 409),
)
def start_training(session: SessionDep, settings: SettingsDep, user: TrainerDep) -> dict[str, Any]:
    """Trains a candidate from the current data and compares it with the current model
    (scripts/compare_models.py, `nice -n 19`, in the background); 409 while one runs."""
    try:
        started = registry.start_training(
            registry.Paths.from_env(), session, user, settings.rasa_url
        )
    except registry.RegistryError as refused:
        raise _registry_refused(refused, session) from None
    session.commit()
    return started


@router.post("/trainer/training/cancel", responses=error_responses(401, 403, 409))
def cancel_training(session: SessionDep, user: TrainerDep) -> dict[str, Any]:
    """Stops the running training; the current model and the last comparison stay."""
    try:
        stopped = registry.cancel_training(registry.Paths.from_env(), session, user)
    except registry.RegistryError as refused:
        raise _registry_refused(refused, session) from None
    session.commit()
    return stopped


@router.get("/trainer/comparison", responses=error_responses(401, 403, 404))
def comparison(user: TrainerDep) -> dict[str, Any]:
    """The latest comparison (reports/model_comparison.json): the decision and its reasons,
    both models, per file the figures, per intent both F1 scores and the top confusions."""
    latest = registry.latest_comparison(registry.Paths.from_env())
    if latest is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Der er ingen sammenligning endnu.")
    pooled = latest.get("pooled") or {}
    return {
        **registry.comparison_summary(latest),
        "per_intent_f1": {
            model: (pooled.get(model) or {}).get("per_intent_f1", {})
            for model in ("current", "candidate")
        },
        "confusions": latest.get("confusions") or {},
        "images": sorted(
            name
            for name in (latest.get("images") or {}).values()
            if registry.image_path(registry.Paths.from_env(), name)
        ),
    }


@router.get("/trainer/intents", responses=error_responses(401, 403))
def intents(settings: SettingsDep, user: TrainerDep) -> dict[str, Any]:
    """Every intent of the taxonomy with its number of training examples in data/nlu, its
    files, its figures from the last cross-validation (reports/cross_validation.json) and
    whether its data looks thin; says when the cross-validation is older than the data."""
    return intent_view.summaries(settings.nlu_data_dir, registry.Paths.from_env().reports)


@router.get("/trainer/intents/{intent}", responses=error_responses(401, 403, 404, 422))
def intent_detail(intent: str, settings: SettingsDep, user: TrainerDep) -> dict[str, Any]:
    """One intent: its training examples, its cross-validation figures, what its examples were
    read as and which intents' examples were read as it, each with example pairs."""
    if intent not in INTENTS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Emnet findes ikke.")
    return intent_view.detail(intent, settings.nlu_data_dir, registry.Paths.from_env().reports)


ImageName = Literal[
    "model_comparison_f1.png",
    "model_comparison_risk.png",
    "model_comparison_confusion_current.png",
    "model_comparison_confusion_candidate.png",
]


@router.get(
    "/trainer/comparison/image",
    response_class=FileResponse,
    responses={**error_responses(401, 403, 404, 422), 200: {"content": {"image/png": {}}}},
)
def comparison_image(name: ImageName, user: TrainerDep) -> FileResponse:
    """One of the comparison's PNG images (the page fetches it with its Authorization header;
    no token in a URL)."""
    path = registry.image_path(registry.Paths.from_env(), name)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Billedet findes ikke.")
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/trainer/models", responses=error_responses(401, 403))
def model_history(session: SessionDep, settings: SettingsDep, user: TrainerDep) -> dict[str, Any]:
    """The model in use, every promotion and restore (newest first, with its figures), and the
    models of the history that can be restored."""
    return registry.history(session, registry.Paths.from_env(), settings.rasa_url)


@router.post("/trainer/models/promote", responses=error_responses(401, 403, 404, 409, 503))
def promote(session: SessionDep, settings: SettingsDep, user: TrainerDep) -> dict[str, Any]:
    """The latest comparison's candidate becomes the model the running Rasa serves (PUT /model
    on loopback), when the gate allowed it and it was compared with the model in use; audited
    with the comparison's figures."""
    try:
        row = registry.promote(session, registry.Paths.from_env(), settings.rasa_url, user)
    except registry.RegistryError as refused:
        raise _registry_refused(refused, session) from None
    session.commit()
    return registry.promotion_out(row)


class RestoreIn(BaseModel):
    model: str = Field(min_length=1, max_length=255)


@router.post(
    "/trainer/models/restore",
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409, 503),
)
def restore(
    body: RestoreIn, session: SessionDep, settings: SettingsDep, user: TrainerDep
) -> dict[str, Any]:
    """A model of the history (`GET /trainer/models`, `models[].model`) becomes current again."""
    try:
        row = registry.restore(
            session, registry.Paths.from_env(), settings.rasa_url, user, body.model
        )
    except registry.RegistryError as refused:
        raise _registry_refused(refused, session) from None
    session.commit()
    return registry.promotion_out(row)
