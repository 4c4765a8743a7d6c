"""The shift calendar: all staff read it; admins edit weekly shifts, closed dates and extras."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

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
from handoff_service.models import User
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


def _calendar_changed(
    session: Session, settings: Settings, broker: EventBroker, user: User
) -> None:
    """Commit, audit, and give every waiting young person the new expected wait at once."""
    audit(session, user, None, "shifts_changed")
    session.commit()
    publish_queue_changed(broker, session, settings, utcnow(), reason="shifts")


@router.get("", response_model=ShiftCalendarOut, responses=error_responses(401, 422))
def read_calendar(
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    days: int = Query(default=14, ge=1, le=60, description="Vagter de næste så mange dage"),
) -> ShiftCalendarOut:
    now = utcnow()
    tz = ZoneInfo(settings.timezone)
    return ShiftCalendarOut(
        timezone=settings.timezone,
        weekly=[calendar.weekly_out(s) for s in calendar.list_weekly(session)],
        exceptions=[
            calendar.exception_out(e) for e in calendar.list_exceptions(session, _today(settings))
        ],
        upcoming=[
            ShiftWindowOut(
                starts_at=w.starts_at,
                ends_at=w.ends_at,
                counsellors=w.counsellors,
                text=danish_window(w, now, tz),
            )
            for w in calendar.upcoming_windows(session, now, tz, days)
        ],
        status=service_status(session, settings),
    )


@router.post(
    "/weekly",
    response_model=WeeklyShiftOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
def add_weekly_shift(
    body: WeeklyShiftIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> WeeklyShiftOut:
    shift = calendar.create_weekly(session, body)
    _calendar_changed(session, settings, broker, admin)
    return calendar.weekly_out(shift)


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
    shift = calendar.update_weekly(session, shift_id, body)
    _calendar_changed(session, settings, broker, admin)
    return calendar.weekly_out(shift)


@router.delete(
    "/weekly/{shift_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422),
)
def remove_weekly_shift(
    shift_id: RowId, session: SessionDep, settings: SettingsDep, broker: BrokerDep, admin: AdminDep
) -> None:
    calendar.delete_weekly(session, shift_id)
    _calendar_changed(session, settings, broker, admin)


@router.post(
    "/exceptions",
    response_model=ShiftExceptionOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
def add_exception(
    body: ShiftExceptionIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> ShiftExceptionOut:
    """A closed date (holiday: no shifts start that date) or an extra shift on one date."""
    exception = calendar.create_exception(session, body, _today(settings))
    _calendar_changed(session, settings, broker, admin)
    return calendar.exception_out(exception)


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
    exception = calendar.update_exception(session, exception_id, body, _today(settings))
    _calendar_changed(session, settings, broker, admin)
    return calendar.exception_out(exception)


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
    calendar.delete_exception(session, exception_id)
    _calendar_changed(session, settings, broker, admin)
