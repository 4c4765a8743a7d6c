"""The shift calendar in the database: weekly shifts, closed dates and extra shifts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service.domain.shifts import (
    DANISH_WEEKDAYS,
    DateException,
    ShiftWindow,
    WeeklyRule,
    exception_date_problem,
    shift_times_problem,
    shift_windows,
)
from handoff_service.errors import Conflict, Invalid, NotFound
from handoff_service.models import ShiftException, WeeklyShift
from handoff_service.schemas import (
    ShiftExceptionIn,
    ShiftExceptionOut,
    WeeklyShiftIn,
    WeeklyShiftOut,
)


def weekly_rules(session: Session, organisation_id: int) -> list[WeeklyRule]:
    """One organisation's weekly shifts (each organisation has its own calendar)."""
    return [
        WeeklyRule(s.weekday, s.starts_at, s.ends_at, s.counsellors)
        for s in session.scalars(
            select(WeeklyShift).where(WeeklyShift.organisation_id == organisation_id)
        )
    ]


def date_exceptions(session: Session, from_day: date, organisation_id: int) -> list[DateException]:
    return [
        DateException(e.on_date, e.kind, e.starts_at, e.ends_at, e.counsellors)
        for e in session.scalars(
            select(ShiftException).where(
                ShiftException.on_date >= from_day,
                ShiftException.organisation_id == organisation_id,
            )
        )
    ]


def upcoming_windows(
    session: Session, now: datetime, tz: ZoneInfo, days: int, organisation_id: int
) -> list[ShiftWindow]:
    """Shift windows that have not ended yet, for the next `days` local dates."""
    today = now.astimezone(tz).date()
    from_day = today - timedelta(days=1)
    windows = shift_windows(
        weekly_rules(session, organisation_id),
        date_exceptions(session, from_day, organisation_id),
        from_day=from_day,
        days=days + 1,
        tz=tz,
    )
    return [w for w in windows if w.ends_at > now]


# -- weekly shifts --------------------------------------------------------------------------


def weekly_out(shift: WeeklyShift, slugs: dict[int, str] | None = None) -> WeeklyShiftOut:
    slugs = slugs or {}
    return WeeklyShiftOut(
        id=shift.id,
        staffed_by=slugs.get(shift.staffed_by_id) if shift.staffed_by_id else None,
        weekday=shift.weekday,
        weekday_name=DANISH_WEEKDAYS[shift.weekday],
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        counsellors=shift.counsellors,
    )


def list_weekly(session: Session, organisation_id: int) -> list[WeeklyShift]:
    return list(
        session.scalars(
            select(WeeklyShift)
            .where(WeeklyShift.organisation_id == organisation_id)
            .order_by(WeeklyShift.weekday, WeeklyShift.starts_at)
        )
    )


def _check_weekly(body: WeeklyShiftIn) -> None:
    if problem := shift_times_problem(body.starts_at, body.ends_at):
        raise Invalid(problem)


def get_weekly(session: Session, shift_id: int) -> WeeklyShift:
    shift = session.get(WeeklyShift, shift_id)
    if shift is None:
        raise NotFound("Vagten findes ikke.")
    return shift


def _fields(body: WeeklyShiftIn | ShiftExceptionIn) -> dict:
    return body.model_dump(exclude={"staffed_by"})


def create_weekly(
    session: Session, body: WeeklyShiftIn, organisation_id: int, staffed_by_id: int | None
) -> WeeklyShift:
    _check_weekly(body)
    duplicate = session.scalar(
        select(WeeklyShift).where(
            WeeklyShift.organisation_id == organisation_id,
            WeeklyShift.weekday == body.weekday,
            WeeklyShift.starts_at == body.starts_at,
            WeeklyShift.ends_at == body.ends_at,
        )
    )
    if duplicate is not None:
        raise Conflict("Den vagt findes allerede. Ret antallet af rådgivere på den i stedet.")
    shift = WeeklyShift(
        **_fields(body), organisation_id=organisation_id, staffed_by_id=staffed_by_id
    )
    session.add(shift)
    session.flush()
    return shift


def update_weekly(
    session: Session, shift: WeeklyShift, body: WeeklyShiftIn, staffed_by_id: int | None
) -> WeeklyShift:
    _check_weekly(body)
    for field, value in _fields(body).items():
        setattr(shift, field, value)
    shift.staffed_by_id = staffed_by_id
    session.flush()
    return shift


def delete_weekly(session: Session, shift: WeeklyShift) -> None:
    session.delete(shift)
    session.flush()


# -- closed dates and extra shifts ----------------------------------------------------------


def exception_out(
    exception: ShiftException, slugs: dict[int, str] | None = None
) -> ShiftExceptionOut:
    slugs = slugs or {}
    return ShiftExceptionOut(
        id=exception.id,
        staffed_by=slugs.get(exception.staffed_by_id) if exception.staffed_by_id else None,
        on_date=exception.on_date,
        kind=exception.kind,
        starts_at=exception.starts_at,
        ends_at=exception.ends_at,
        counsellors=exception.counsellors,
        note=exception.note,
    )


def list_exceptions(session: Session, from_day: date, organisation_id: int) -> list[ShiftException]:
    return list(
        session.scalars(
            select(ShiftException)
            .where(
                ShiftException.on_date >= from_day,
                ShiftException.organisation_id == organisation_id,
            )
            .order_by(ShiftException.on_date, ShiftException.starts_at)
        )
    )


def _check_exception(
    session: Session,
    body: ShiftExceptionIn,
    today: date,
    exclude_id: int | None,
    organisation_id: int | None,
) -> None:
    if problem := exception_date_problem(body.on_date, today):
        raise Invalid(problem)
    if body.kind == "extra":
        if problem := shift_times_problem(body.starts_at, body.ends_at):
            raise Invalid(problem)
    else:
        already_closed = session.scalar(
            select(ShiftException.id).where(
                ShiftException.organisation_id == organisation_id,
                ShiftException.on_date == body.on_date,
                ShiftException.kind == "closed",
                ShiftException.id != (exclude_id or -1),
            )
        )
        if already_closed is not None:
            raise Conflict("Den dato er allerede lukket.")


def get_exception(session: Session, exception_id: int) -> ShiftException:
    exception = session.get(ShiftException, exception_id)
    if exception is None:
        raise NotFound("Undtagelsen findes ikke.")
    return exception


def create_exception(
    session: Session,
    body: ShiftExceptionIn,
    today: date,
    organisation_id: int,
    staffed_by_id: int | None,
) -> ShiftException:
    _check_exception(session, body, today, exclude_id=None, organisation_id=organisation_id)
    exception = ShiftException(
        **_fields(body), organisation_id=organisation_id, staffed_by_id=staffed_by_id
    )
    session.add(exception)
    session.flush()
    return exception


def update_exception(
    session: Session,
    exception: ShiftException,
    body: ShiftExceptionIn,
    today: date,
    staffed_by_id: int | None,
) -> ShiftException:
    _check_exception(
        session,
        body,
        today,
        exclude_id=exception.id,
        organisation_id=exception.organisation_id,
    )
    for field, value in _fields(body).items():
        setattr(exception, field, value)
    exception.staffed_by_id = staffed_by_id
    session.flush()
    return exception


def delete_exception(session: Session, exception: ShiftException) -> None:
    session.delete(exception)
    session.flush()
