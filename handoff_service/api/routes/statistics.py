"""Statistics (issue #17, docs/statistics.md): the young person's feedback, the counsellor's
registration after closing, and the leader's suppressed tables and CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy.orm import Session

from handoff_service import organisations as orgs
from handoff_service.api.deps import (
    CounsellorConversationDep,
    CounsellorDep,
    CurrentUserDep,
    LeaderDep,
    SessionDep,
    TextsDep,
    YoungConversationDep,
)
from handoff_service.db import utcnow
from handoff_service.models import User
from handoff_service.schemas import BODY_ERRORS, error_responses
from handoff_service.statistics import answers, report
from handoff_service.statistics.answers import (
    FeedbackIn,
    FeedbackRecorded,
    RegistrationIn,
    RegistrationOptions,
    RegistrationOut,
)

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=error_responses(503))

NOT_YOURS = "Samtalen er ikke din. Kun rådgiveren, der havde den, kan registrere den."
WeekParam = Annotated[str | None, Query(max_length=8)]
PeriodParam = Annotated[str, Query(max_length=8)]


@router.post(
    "/conversations/{conversation_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRecorded,
    responses=error_responses(*BODY_ERRORS, 401, 404, 409),
)
def give_feedback(
    body: FeedbackIn, conversation: YoungConversationDep, session: SessionDep
) -> FeedbackRecorded:
    """The young person's anonymous answers when the conversation is over: once, no text."""
    answers.save_feedback(session, conversation, body)
    session.commit()
    return FeedbackRecorded()


@router.get(
    "/registration-options",
    response_model=RegistrationOptions,
    responses=error_responses(401),
)
def registration_options(user: CurrentUserDep, texts: TextsDep) -> RegistrationOptions:
    """The codes and Danish labels of the counsellor's registration form."""
    return answers.registration_options(texts)


def _registering(conversation: CounsellorConversationDep, user: CounsellorDep):
    if user.role != "admin" and conversation.counsellor_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_YOURS)
    return conversation


@router.get(
    "/conversations/{conversation_id}/registration",
    response_model=RegistrationOut | None,
    responses=error_responses(401, 403, 404, 422),
)
def read_registration(
    conversation: CounsellorConversationDep, user: CounsellorDep
) -> RegistrationOut | None:
    return answers.registration_out(_registering(conversation, user))


@router.put(
    "/conversations/{conversation_id}/registration",
    response_model=RegistrationOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def save_registration(
    body: RegistrationIn,
    conversation: CounsellorConversationDep,
    user: CounsellorDep,
    session: SessionDep,
) -> RegistrationOut:
    """Topics, age band, gender and referral of a closed conversation; replaces an earlier one.
    Audited as "registration_saved", never with its content."""
    saved = answers.save_registration(session, _registering(conversation, user), user, body)
    session.commit()
    return saved


OrganisationParam = Annotated[
    str | None,
    Query(max_length=40, description="Organisationens kortnavn; uden: din egen (platformen: alle)"),
]


def _organisation(session: Session, user: User, slug: str | None) -> str | None:
    """Whose figures: a leader or admin of an organisation sees only their own; platform staff
    see any one organisation's, or all summed (None)."""
    if user.organisation_id is not None:
        own = orgs.organisation_of(session, user.organisation_id)
        if slug is not None and slug != own.slug:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Du kan kun se din egen organisations tal."
            )
        return own.slug
    if slug is None:
        return None
    if orgs.by_slug(session, slug) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Organisationen findes ikke.")
    return slug


@router.get("/statistics", responses=error_responses(401, 403, 404, 422))
def statistics(
    session: SessionDep,
    user: LeaderDep,
    texts: TextsDep,
    first: Annotated[str | None, Query(alias="from", max_length=8)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=8)] = None,
    period: PeriodParam = "week",
    organisation: OrganisationParam = None,
) -> dict:
    """The suppressed tables of docs/statistics.md for ISO weeks `from`..`to` (default: the last
    12 weeks), per week or per month."""
    now = utcnow()
    span = report.parse_range(first, last, period, now)
    return report.build_report(
        session, span, texts, now, _organisation(session, user, organisation)
    )


@router.get(
    "/statistics/export.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "Samme tal som siden."},
        **error_responses(401, 403, 404, 422),
    },
)
def statistics_csv(
    session: SessionDep,
    user: LeaderDep,
    texts: TextsDep,
    first: Annotated[str | None, Query(alias="from", max_length=8)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=8)] = None,
    period: PeriodParam = "week",
    organisation: OrganisationParam = None,
) -> Response:
    now = utcnow()
    span = report.parse_range(first, last, period, now)
    chosen = _organisation(session, user, organisation)
    body = report.report_csv(report.build_report(session, span, texts, now, chosen), texts)
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="statistik.csv"',
            "Cache-Control": "no-store",
        },
    )
