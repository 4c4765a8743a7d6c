"""The shift calendar: weekly shifts plus closed dates and extra shifts, in local wall-clock time.

Times are stored as Europe/Copenhagen wall-clock times and turned into aware datetimes per date,
so a 17:00 shift starts at 17:00 local time on both sides of a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DANISH_WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int  # 0 = Monday
    starts_at: time
    ends_at: time
    counsellors: int = 1


@dataclass(frozen=True)
class DateException:
    on_date: date
    kind: str  # "closed" (no shifts that date) | "extra" (an additional shift)
    starts_at: time | None = None
    ends_at: time | None = None
    counsellors: int = 1


@dataclass(frozen=True)
class ShiftWindow:
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    counsellors: int


@dataclass(frozen=True)
class ShiftStatus:
    is_open: bool
    current_shift_end: datetime | None
    next_shift_start: datetime | None
    counsellors_on_shift: int
    next_shift_counsellors: int

    def minutes_until_next_shift(self, now: datetime) -> float | None:
        if self.next_shift_start is None:
            return None
        return max(0.0, (self.next_shift_start - now).total_seconds() / 60)


def _local_window(day: date, start: time, end: time, counsellors: int, tz: ZoneInfo) -> ShiftWindow:
    starts = datetime.combine(day, start, tzinfo=tz)
    end_day = day if end > start else day + timedelta(days=1)  # a shift may cross midnight
    ends = datetime.combine(end_day, end, tzinfo=tz)
    return ShiftWindow(starts.astimezone(UTC), ends.astimezone(UTC), counsellors)


def shift_windows(
    weekly: Sequence[WeeklyRule],
    exceptions: Sequence[DateException],
    *,
    from_day: date,
    days: int,
    tz: ZoneInfo,
) -> list[ShiftWindow]:
    """All shift windows that start on the local dates [from_day, from_day + days), sorted."""
    closed = {e.on_date for e in exceptions if e.kind == "closed"}
    windows: list[ShiftWindow] = []
    for offset in range(days):
        day = from_day + timedelta(days=offset)
        if day not in closed:
            for rule in weekly:
                if rule.weekday == day.weekday():
                    windows.append(
                        _local_window(day, rule.starts_at, rule.ends_at, rule.counsellors, tz)
                    )
        for extra in exceptions:
            if extra.kind == "extra" and extra.on_date == day and extra.starts_at and extra.ends_at:
                windows.append(
                    _local_window(day, extra.starts_at, extra.ends_at, extra.counsellors, tz)
                )
    return sorted(windows, key=lambda w: w.starts_at)


def shift_status(
    now: datetime,
    weekly: Sequence[WeeklyRule],
    exceptions: Sequence[DateException],
    tz: ZoneInfo,
    horizon_days: int = 60,
) -> ShiftStatus:
    """Whether a shift is on now, when it ends, and when the next one starts."""
    local_today = now.astimezone(tz).date()
    windows = shift_windows(
        weekly, exceptions, from_day=local_today - timedelta(days=1), days=horizon_days, tz=tz
    )
    current = [w for w in windows if w.starts_at <= now < w.ends_at]
    upcoming = [w for w in windows if w.starts_at > now]
    next_window = upcoming[0] if upcoming else None
    return ShiftStatus(
        is_open=bool(current),
        current_shift_end=max((w.ends_at for w in current), default=None),
        next_shift_start=next_window.starts_at if next_window else None,
        counsellors_on_shift=sum(w.counsellors for w in current),
        next_shift_counsellors=next_window.counsellors if next_window else 0,
    )


def danish_clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"kl. {local.hour}" if local.minute == 0 else f"kl. {local.hour}.{local.minute:02d}"


def danish_when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """'i dag kl. 17', 'i morgen kl. 17.30', 'mandag kl. 17' (within a week), else with the date."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    days_ahead = (local.date() - today).days
    if days_ahead == 0:
        day_words = "i dag"
    elif days_ahead == 1:
        day_words = "i morgen"
    elif 1 < days_ahead < 7:
        day_words = DANISH_WEEKDAYS[local.weekday()]
    else:
        months = (
            "januar",
            "februar",
            "marts",
            "april",
            "maj",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "december",
        )
        day_words = f"{DANISH_WEEKDAYS[local.weekday()]} den {local.day}. {months[local.month - 1]}"
    return f"{day_words} {danish_clock(moment, tz)}"


MAX_SHIFT_HOURS = 16
MAX_DAYS_AHEAD = 2 * 366


def shift_length(starts_at: time, ends_at: time) -> timedelta:
    """Wall-clock length; an end at or before the start means the shift runs past midnight."""
    start = timedelta(hours=starts_at.hour, minutes=starts_at.minute)
    end = timedelta(hours=ends_at.hour, minutes=ends_at.minute)
    return end - start if end > start else end + timedelta(days=1) - start


def shift_times_problem(starts_at: time | None, ends_at: time | None) -> str | None:
    """A Danish reason why these times cannot make a shift, or None."""
    if starts_at is None or ends_at is None:
        return "En vagt skal have både start- og sluttidspunkt."
    if (starts_at.hour, starts_at.minute) == (ends_at.hour, ends_at.minute):
        return "En vagt skal slutte på et andet tidspunkt, end den starter."
    if shift_length(starts_at, ends_at) > timedelta(hours=MAX_SHIFT_HOURS):
        return f"En vagt kan højst vare {MAX_SHIFT_HOURS} timer."
    return None


def exception_date_problem(on_date: date, today: date) -> str | None:
    if on_date < today:
        return "Datoen er passeret. Vælg i dag eller en senere dato."
    if on_date > today + timedelta(days=MAX_DAYS_AHEAD):
        return "Datoen ligger for langt ude i fremtiden (højst to år frem)."
    return None


def danish_window(window: ShiftWindow, now: datetime, tz: ZoneInfo) -> str:
    """'mandag kl. 17-21' style text for a shift window, in local time."""
    ends = danish_clock(window.ends_at, tz).removeprefix("kl. ")
    return f"{danish_when(window.starts_at, now, tz)}-{ends}"
