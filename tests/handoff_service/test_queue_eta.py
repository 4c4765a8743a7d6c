"""Expected wait from the calendar and recent handling times, and the shift watcher's pushes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handoff_service import queue as queue_ops
from handoff_service.events import EventBroker
from handoff_service.models import User
from handoff_service.scheduler import ShiftWatcher
from tests.utils.factories import make_closed_conversation, make_queued_conversation

CPH = ZoneInfo("Europe/Copenhagen")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CPH).astimezone(UTC)


def test_open_shift_wait_uses_median_handling_and_counsellors_on_shift(session, settings):
    demo = session.scalar(select(User).where(User.username == "demo"))
    for minutes in (8, 10, 12, 300):  # one forgotten conversation must not skew the estimate
        make_closed_conversation(
            session, demo, closed_at=local(2026, 11, 16, 20, 0), handling_minutes=minutes
        )
    monday_evening = local(2026, 11, 23, 18, 0)  # the seeded shift: Mon-Thu 17-21, 2 counsellors
    context = queue_ops.queue_context(session, settings, monday_evening)
    assert context.shift.is_open and context.shift.counsellors_on_shift == 2
    assert context.handling == 11
    assert [context.eta_minutes(p) for p in (1, 2, 3, 4, 5)] == [11, 11, 22, 22, 33]


def test_out_of_hours_wait_counts_down_to_the_next_shift(session, settings):
    friday_night = local(2026, 11, 27, 23, 0)
    info = queue_ops.queue_context(session, settings, friday_night).info(3)
    assert info.shift_open is False
    assert info.next_shift_text == "mandag kl. 17"
    minutes_to_monday = (local(2026, 11, 30, 17, 0) - friday_night).total_seconds() / 60
    assert info.eta_minutes == minutes_to_monday + settings.default_handling_minutes


def test_queue_info_position_matches_the_full_ordering(session, settings):
    waiting = [
        make_queued_conversation(session, risk=risk)
        for risk in ("normal", "critical", "high", "normal", "critical")
    ]
    ordered = queue_ops.waiting_conversations(session)
    for conversation in waiting:
        assert queue_ops.queue_position(session, conversation) == ordered.index(conversation) + 1
    assert queue_ops.all_queue_positions(session) == {
        c.id: i for i, c in enumerate(ordered, start=1)
    }


def test_shift_watcher_announces_opening_and_closing(session, settings):
    watcher, broker = ShiftWatcher(), EventBroker()
    monday = local(2026, 11, 23, 16, 59)
    assert (
        watcher.check(session, settings, broker, monday) is None
    )  # first look: nothing to compare
    assert watcher.check(session, settings, broker, monday + timedelta(minutes=2)) == "shift_opened"
    assert watcher.check(session, settings, broker, monday + timedelta(minutes=30)) is None
    assert watcher.check(session, settings, broker, local(2026, 11, 23, 21, 1)) == "shift_closed"


def test_the_push_fast_path_says_exactly_what_a_get_says(session, settings):
    for moment in (local(2026, 11, 23, 18, 0), local(2026, 11, 27, 23, 0)):
        context = queue_ops.queue_context(session, settings, moment)
        for position in (1, 2, 3, 17):
            assert context.info_json(position) == context.info(position).model_dump(mode="json")
