"""The shift calendar: all staff read it; admins edit weekly shifts, closed dates and extras."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import Session

from handoff_service import organisations as orgs
from handoff_service import shift_calendar as calendar
from handoff_service.api.deps import (
    AdminDep,
    BrokerDep,
    CurrentUserDep,
    RowId,
    SessionDep,
    SettingsDep,
)
from handoff_service.audit import audit
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.shifts import danish_window
from handoff_service.events import EventBroker
from handoff_service.models import Organisation, User
from handoff_service.notify import publish_queue_changed
from handoff_service.queue import service_status
from handoff_service.schemas import (
    BODY_ERRORS,
    ShiftCalendarOut,
    ShiftExceptionIn,
    ShiftExceptionOut,
    ShiftWindowOut,
    WeeklyShiftIn,
    WeeklyShiftOut,
    error_responses,
)

router = APIRouter(prefix="/api/v1/shifts", tags=["shifts"], responses=error_responses(503))


def _today(settings: Settings) -> date:
    return utcnow().astimezone(ZoneInfo(settings.timezone)).date()


OrganisationQuery = Annotated[
    str | None,
    Query(max_length=40, description="Organisationens kortnavn (slug); uden: din egen"),
]
NOT_YOURS = "Du kan kun ændre vagterne i din egen organisation."


def _organisation(session: Session, user: User, slug: str | None) -> Organisation:
    """The calendar asked for: `slug`'s, else the user's own organisation's (the default one's
    for platform staff)."""
    if slug is None:
        return orgs.organisation_of(session, user.organisation_id)
    found = orgs.by_slug(session, slug)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Organisationen findes ikke.")
    return found


def _managed(session: Session, user: User, organisation_id: int | None) -> None:
    if not orgs.may_manage(user, organisation_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_YOURS)


def _staffed_by(session: Session, network: Organisation, slug: str | None) -> int | None:
    """A network's shift names the member organisation that staffs it (the shared rota)."""
    if slug is None:
        return None
    member = orgs.by_slug(session, slug)
    if member is None or (member.network_id != network.id and member.id != network.id):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "Vagten kan kun bemandes af netværket selv eller en af dets medlemmer.",
        )
    return member.id


def _calendar_changed(
    session: Session, settings: Settings, broker: EventBroker, user: User
) -> None:
    """Commit, audit, move waiting conversations if a queue closed, and give every waiting
    young person the new expected wait at once."""
    audit(session, user, None, "shifts_changed")
    orgs.reroute_waiting(session, utcnow())
    session.commit()
    publish_queue_changed(broker, session, settings, utcnow(), reason="shifts")


@router.get("", response_model=ShiftCalendarOut, responses=error_responses(401, 404, 422))
def read_calendar(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    organisation: OrganisationQuery = None,
    days: int = Query(default=14, ge=1, le=60, description="Vagter de næste så mange dage"),
) -> ShiftCalendarOut:
    """An organisation's calendar (every staff member may read every organisation's hours)."""
    now = utcnow()
    tz = ZoneInfo(settings.timezone)
    owner = _organisation(session, user, organisation)
    slugs = {o.id: o.slug for o in orgs.all_organisations(session)}
    return ShiftCalendarOut(
        timezone=settings.timezone,
        organisation=orgs.ref(owner),
        weekly=[calendar.weekly_out(s, slugs) for s in calendar.list_weekly(session, owner.id)],
        exceptions=[
            calendar.exception_out(e, slugs)
            for e in calendar.list_exceptions(session, _today(settings), owner.id)
        ],
        upcoming=[
            ShiftWindowOut(
                starts_at=w.starts_at,
                ends_at=w.ends_at,
                counsellors=w.counsellors,
                text=danish_window(w, now, tz),
            )
            for w in calendar.upcoming_windows(session, now, tz, days, owner.id)
        ],
        status=service_status(session, settings, origin=owner),
    )


def _slugs(session: Session) -> dict[int, str]:
    return {o.id: o.slug for o in orgs.all_organisations(session)}


@router.post(
    "/weekly",
    response_model=WeeklyShiftOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def add_weekly_shift(
    body: WeeklyShiftIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
    organisation: OrganisationQuery = None,
) -> WeeklyShiftOut:
    owner = _organisation(session, admin, organisation)
    _managed(session, admin, owner.id)
    staffed_by = _staffed_by(session, owner, body.staffed_by)
    shift = calendar.create_weekly(session, body, owner.id, staffed_by)
    _calendar_changed(session, settings, broker, admin)
    return calendar.weekly_out(shift, _slugs(session))


@router.put(
    "/weekly/{shift_id}",
    response_model=WeeklyShiftOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def change_weekly_shift(
    shift_id: RowId,
    body: WeeklyShiftIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> WeeklyShiftOut:
    shift = calendar.get_weekly(session, shift_id)
    _managed(session, admin, shift.organisation_id)
    owner = orgs.organisation_of(session, shift.organisation_id)
    shift = calendar.update_weekly(
        session, shift, body, _staffed_by(session, owner, body.staffed_by)
    )
    _calendar_changed(session, settings, broker, admin)
    return calendar.weekly_out(shift, _slugs(session))


@router.delete(
    "/weekly/{shift_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
)
def remove_weekly_shift(
    shift_id: RowId, session: SessionDep, settings: SettingsDep, broker: BrokerDep, admin: AdminDep
) -> None:
    shift = calendar.get_weekly(session, shift_id)
    _managed(session, admin, shift.organisation_id)
    calendar.delete_weekly(session, shift)
    _calendar_changed(session, settings, broker, admin)


@router.post(
    "/exceptions",
    response_model=ShiftExceptionOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def add_exception(
    body: ShiftExceptionIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
    organisation: OrganisationQuery = None,
) -> ShiftExceptionOut:
    """A closed date (holiday: no shifts start that date) or an extra shift on one date."""
    owner = _organisation(session, admin, organisation)
    _managed(session, admin, owner.id)
    staffed_by = _staffed_by(session, owner, body.staffed_by)
    exception = calendar.create_exception(session, body, _today(settings), owner.id, staffed_by)
    _calendar_changed(session, settings, broker, admin)
    return calendar.exception_out(exception, _slugs(session))


@router.put(
    "/exceptions/{exception_id}",
    response_model=ShiftExceptionOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def change_exception(
    exception_id: RowId,
    body: ShiftExceptionIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> ShiftExceptionOut:
    exception = calendar.get_exception(session, exception_id)
    _managed(session, admin, exception.organisation_id)
    owner = orgs.organisation_of(session, exception.organisation_id)
    exception = calendar.update_exception(
        session, exception, body, _today(settings), _staffed_by(session, owner, body.staffed_by)
    )
    _calendar_changed(session, settings, broker, admin)
    return calendar.exception_out(exception, _slugs(session))


@router.delete(
    "/exceptions/{exception_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
)
def remove_exception(
    exception_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> None:
    exception = calendar.get_exception(session, exception_id)
    _managed(session, admin, exception.organisation_id)
    calendar.delete_exception(session, exception)
    _calendar_changed(session, settings, broker, admin)
