"""Expected wait and handling time: the pure arithmetic behind what a waiting person is told.

The queue order itself (QUEUE_ORDER) and the places live in handoff_service/queue.py.

Expected wait (minutes) for the young person at `position` p (1 = next), with h the handling
time (median of the last 50 claim-to-close durations, clamped to [5, 60]; a default without data)
and c the counsellors planned on the current shift (c' on the next one), both at least 1:
    waves      = ceil(p / c)                        counsellors take c conversations per h minutes
    open shift : waves * h                          if that is before the shift ends, else
                 T_next + (ceil(r / c') - 1) * h    r = p - c * floor(T_end / h) left for next shift
    closed     : T_next + (ceil(p / c') - 1) * h    the first c' are taken when the shift opens
with T_end the minutes until the current shift ends and T_next the minutes until the next shift
starts; None when no shift is planned (the young person is told that, not a made-up number).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def handling_minutes(recent_durations_minutes: Sequence[float], default: int) -> float:
    if not recent_durations_minutes:
        return float(default)
    return min(60.0, max(5.0, statistics.median(recent_durations_minutes)))


def expected_wait_minutes(
    position: int,
    *,
    shift_open: bool,
    counsellors: int,
    handling: float,
    minutes_until_next_shift: float | None,
    minutes_until_shift_end: float | None = None,
    next_shift_counsellors: int | None = None,
) -> int | None:
    """Expected wait in whole minutes (formula in the module docstring); None if no shift planned.

    When closed, `counsellors` is the next shift's; when open, `next_shift_counsellors` is.
    """
    if position < 1:
        raise ValueError("position starts at 1")
    counsellors = max(1, counsellors)
    if not shift_open:
        if minutes_until_next_shift is None:
            return None
        return math.ceil(
            minutes_until_next_shift + (math.ceil(position / counsellors) - 1) * handling
        )
    waves = math.ceil(position / counsellors)
    if minutes_until_shift_end is None or waves * handling <= minutes_until_shift_end:
        return math.ceil(waves * handling)
    # Not reached before this shift ends: the rest of the queue waits for the next shift.
    left = position - counsellors * math.floor(minutes_until_shift_end / handling)
    if minutes_until_next_shift is None:
        return None
    next_counsellors = max(1, next_shift_counsellors or counsellors)
    return math.ceil(minutes_until_next_shift + (math.ceil(left / next_counsellors) - 1) * handling)
