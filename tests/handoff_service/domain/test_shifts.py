"""The shift calendar in Europe/Copenhagen, across daylight-saving changes and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from handoff_service.domain.shifts import (
    DateException,
    WeeklyRule,
    danish_when,
    danish_window,
    exception_date_problem,
    shift_length,
    shift_status,
    shift_times_problem,
    shift_windows,
)
from tests.utils.clock import open_now_window

CPH = ZoneInfo("Europe/Copenhagen")
EVENINGS = [WeeklyRule(weekday, time(17), time(21), 2) for weekday in range(4)]  # Mon-Thu


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def test_open_during_a_shift_and_closed_after():
    during = shift_status(local(2026, 11, 23, 18, 30), EVENINGS, [], CPH)  # Monday
    assert during.is_open and during.counsellors_on_shift == 2
    assert during.current_shift_end == local(2026, 11, 23, 21, 0)
    after = shift_status(local(2026, 11, 23, 22, 0), EVENINGS, [], CPH)
    assert not after.is_open
    assert after.next_shift_start == local(2026, 11, 24, 17, 0)


def test_friday_night_waits_for_monday():
    status = shift_status(local(2026, 11, 27, 23, 0), EVENINGS, [], CPH)  # Friday
    assert status.next_shift_start == local(2026, 11, 30, 17, 0)
    assert danish_when(status.next_shift_start, local(2026, 11, 27, 23, 0), CPH) == "mandag kl. 17"


def test_shift_starts_at_17_local_time_across_daylight_saving():
    # Summer time ends on Sunday 25 October 2026: 17:00 local is 15:00 UTC before, 16:00 UTC after.
    before = shift_status(local(2026, 10, 22, 12, 0), EVENINGS, [], CPH)
    after = shift_status(local(2026, 10, 25, 12, 0), EVENINGS, [], CPH)
    assert before.next_shift_start == datetime(2026, 10, 22, 15, 0, tzinfo=UTC)
    assert after.next_shift_start == datetime(2026, 10, 26, 16, 0, tzinfo=UTC)


def test_closed_dates_and_extra_shifts():
    christmas_eve = date(2026, 12, 24)  # a Thursday
    exceptions = [
        DateException(christmas_eve, "closed"),
        DateException(date(2026, 12, 26), "extra", time(19), time(22), 1),
    ]
    status = shift_status(local(2026, 12, 24, 18, 0), EVENINGS, exceptions, CPH)
    assert not status.is_open
    assert status.next_shift_start == local(2026, 12, 26, 19, 0)


def test_danish_wording_for_today_and_tomorrow():
    now = local(2026, 11, 23, 10, 0)
    assert danish_when(local(2026, 11, 23, 17, 0), now, CPH) == "i dag kl. 17"
    assert danish_when(local(2026, 11, 24, 17, 30), now, CPH) == "i morgen kl. 17.30"


def test_shift_starts_at_17_local_time_across_the_spring_change():
    # Summer time starts on Sunday 29 March 2026: 17:00 local is 16:00 UTC before, 15:00 UTC after.
    before = shift_status(local(2026, 3, 26, 12, 0), EVENINGS, [], CPH)  # Thursday
    after = shift_status(local(2026, 3, 28, 12, 0), EVENINGS, [], CPH)  # Saturday
    assert before.next_shift_start == datetime(2026, 3, 26, 16, 0, tzinfo=UTC)
    assert after.next_shift_start == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)


def test_a_shift_past_midnight_keeps_the_service_open_after_midnight():
    late = [WeeklyRule(4, time(22), time(2), 1)]  # Friday 22-02
    status = shift_status(local(2026, 11, 28, 1, 30), late, [], CPH)  # Saturday 01:30
    assert status.is_open and status.current_shift_end == local(2026, 11, 28, 2, 0)


def test_shift_time_rules_give_danish_reasons():
    assert shift_times_problem(time(17), time(21)) is None
    assert shift_times_problem(time(22), time(2)) is None
    assert "andet tidspunkt" in shift_times_problem(time(17), time(17))
    assert "16 timer" in shift_times_problem(time(6), time(23))
    assert "start- og sluttidspunkt" in shift_times_problem(None, time(21))
    assert shift_length(time(22), time(2)).total_seconds() == 4 * 3600
    today = date(2026, 11, 22)
    assert exception_date_problem(today, today) is None
    assert "passeret" in exception_date_problem(date(2026, 11, 21), today)
    assert "fremtiden" in exception_date_problem(date(2029, 1, 1), today)


def test_a_window_reads_as_danish_day_and_hours():
    window = shift_windows(EVENINGS, [], from_day=date(2026, 11, 24), days=1, tz=CPH)[0]
    assert danish_window(window, local(2026, 11, 23, 10, 0), CPH) == "i morgen kl. 17-21"


@pytest.mark.parametrize(
    "moment",
    [(2026, 12, 2, 0, 10), (2026, 12, 1, 12, 0), (2026, 12, 1, 23, 59), (2026, 10, 25, 2, 30)],
    ids=["just-after-midnight", "midday", "a-minute-to-midnight", "summer-time-ends"],
)
def test_an_extra_shift_added_now_is_accepted_and_open_at_any_hour(moment):
    """An admin who adds an extra shift for right now is never told the date has passed, and
    the service is open at once, also when the shift runs past midnight."""
    now = datetime(*moment, tzinfo=CPH)
    on_date, starts_at, ends_at = open_now_window(now)
    day = date.fromisoformat(on_date)
    assert exception_date_problem(day, now.date()) is None
    starts, ends = time.fromisoformat(starts_at), time.fromisoformat(ends_at)
    assert shift_times_problem(starts, ends) is None
    extra = DateException(day, "extra", starts, ends, 2)
    status = shift_status(now.astimezone(UTC), [], [extra], CPH)
    assert status.is_open and status.counsellors_on_shift == 2
