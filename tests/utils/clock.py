"""Local-time helpers for tests that put a shift on the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Copenhagen")


def open_now_window(now: datetime | None = None) -> tuple[str, str, str]:
    """(date, start, end) of an extra shift that is open at `now`, Copenhagen time.

    The shift is dated today, because a date that has passed is refused, so just after
    midnight it starts at 00:00 instead of an hour ago. It ends two hours on and may run
    past midnight, as a real evening shift does.
    """
    now = (now or datetime.now(TZ)).astimezone(TZ).replace(second=0, microsecond=0)
    starts = max(now - timedelta(hours=1), now.replace(hour=0, minute=0))
    ends = now + timedelta(hours=2)
    return now.date().isoformat(), starts.strftime("%H:%M"), ends.strftime("%H:%M")
