"""Queue order, positions and expected wait.

Order: risk first (critical, high, normal), then the time the conversation was queued, then id
as a tie-breaker so the order is total and the same on every database.

Expected wait (minutes) for the young person at `position` (1 = next):
    waves      = ceil(position / max(1, counsellors))
    open shift : waves * handling_minutes
    closed     : minutes_until_next_shift + (waves - 1) * handling_minutes
with `counsellors` the counsellors on the current (or next) shift and `handling_minutes` the
median of recent handling times (claim to close), clamped to [5, 60], or a default without data.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    risk_rank: int
    queued_at: datetime


def queue_sort_key(entry: QueueEntry) -> tuple[int, datetime, str]:
    return (-entry.risk_rank, entry.queued_at, entry.conversation_id)


def queue_positions(entries: Iterable[QueueEntry]) -> dict[str, int]:
    """Positions (1-based) for every waiting conversation, in one pass over the queue."""
    ordered = sorted(entries, key=queue_sort_key)
    return {entry.conversation_id: index for index, entry in enumerate(ordered, start=1)}


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
) -> int | None:
    """Expected wait in whole minutes, or None when no shift is planned at all."""
    if position < 1:
        raise ValueError("position starts at 1")
    waves = math.ceil(position / max(1, counsellors))
    if shift_open:
        return math.ceil(waves * handling)
    if minutes_until_next_shift is None:
        return None
    return math.ceil(minutes_until_next_shift + (waves - 1) * handling)
