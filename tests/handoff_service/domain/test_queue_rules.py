"""Expected wait and the risk rule as plain functions (the queue order: test_queue_order.py)."""

from __future__ import annotations

import pytest

from handoff_service.domain.queue import expected_wait_minutes, handling_minutes
from triage_core.risk import raised_risk, risk_of_intent


def test_expected_wait_open_shift_scales_with_counsellors():
    assert (
        expected_wait_minutes(
            1, shift_open=True, counsellors=2, handling=15, minutes_until_next_shift=None
        )
        == 15
    )
    assert (
        expected_wait_minutes(
            3, shift_open=True, counsellors=2, handling=15, minutes_until_next_shift=None
        )
        == 30
    )


def test_expected_wait_when_closed_adds_time_to_next_shift():
    assert (
        expected_wait_minutes(
            1, shift_open=False, counsellors=2, handling=15, minutes_until_next_shift=120
        )
        == 120
    )
    assert (
        expected_wait_minutes(
            3, shift_open=False, counsellors=2, handling=15, minutes_until_next_shift=120
        )
        == 135
    )
    assert (
        expected_wait_minutes(
            1, shift_open=False, counsellors=0, handling=15, minutes_until_next_shift=None
        )
        is None
    )


def test_handling_time_is_a_clamped_median():
    assert handling_minutes([], default=20) == 20
    assert handling_minutes([10, 12, 300], default=20) == 12
    assert handling_minutes([1, 2, 3], default=20) == 5


@pytest.mark.parametrize(
    ("current", "observed", "expected"),
    [
        ("normal", "critical", "critical"),
        ("critical", "normal", "critical"),
        ("high", "normal", "high"),
        ("high", "critical", "critical"),
    ],
)
def test_risk_never_goes_down(current, observed, expected):
    assert raised_risk(current, observed) == expected


def test_intent_risk_levels_follow_design():
    assert {
        i: risk_of_intent(i)
        for i in ("suicidal", "self_harm", "immediate_danger", "violence", "feeling_sad")
    } == {
        "suicidal": "critical",
        "self_harm": "critical",
        "immediate_danger": "critical",
        "violence": "high",
        "feeling_sad": "normal",
    }


def test_expected_wait_spills_into_the_next_shift_when_this_one_ends_first():
    # 2 counsellors, 20 minutes each, 30 minutes left: one wave (2 people) fits before closing.
    common = {"shift_open": True, "counsellors": 2, "handling": 20, "minutes_until_shift_end": 30}
    assert (
        expected_wait_minutes(2, minutes_until_next_shift=1200, next_shift_counsellors=2, **common)
        == 20
    )
    # Third in line: nobody reaches them tonight; they are first when tomorrow's shift opens.
    assert (
        expected_wait_minutes(3, minutes_until_next_shift=1200, next_shift_counsellors=2, **common)
        == 1200
    )
    assert (
        expected_wait_minutes(7, minutes_until_next_shift=1200, next_shift_counsellors=2, **common)
        == 1240
    )
    # No shift after this one: no made-up number.
    assert expected_wait_minutes(3, minutes_until_next_shift=None, **common) is None
