"""The fixed codes the statistics count: every category is one of these, never free text.

The Danish labels live in handoff_service/texts_da.yml (`statistics:` and `topic_labels:`).
"""

from __future__ import annotations

from typing import get_args
from zoneinfo import ZoneInfo

from handoff_service.schemas import CloseIn
from triage_core.taxonomy import CRISIS_INTENTS, OUT_OF_SCOPE, TOPIC_INTENTS

#: One organisation until a municipal network exists.
ORGANISATION = "default"
#: Weeks and hours of day are Danish local time.
LOCAL_TZ = ZoneInfo("Europe/Copenhagen")

RISKS: tuple[str, ...] = ("normal", "high", "critical")
#: The conversation's topic as the statistics know it; anything else counts as "unknown".
TOPICS: tuple[str, ...] = (*TOPIC_INTENTS, *CRISIS_INTENTS, OUT_OF_SCOPE, "unknown")
#: What a counsellor may register as the conversation's topics (the taxonomy's topics).
REGISTRATION_TOPICS: tuple[str, ...] = (*TOPIC_INTENTS, *CRISIS_INTENTS, OUT_OF_SCOPE)
AGE_BANDS: tuple[str, ...] = ("under_13", "13_15", "16_18", "19_25", "ved_ikke")
GENDERS: tuple[str, ...] = ("pige", "dreng", "andet", "ved_ikke")
REFERRALS: tuple[str, ...] = ("ingen", "kommune", "laege", "misbrug", "andet")
OUTCOMES: tuple[str, ...] = get_args(CloseIn.model_fields["outcome"].annotation)
FEEDBACK_HELPED: tuple[str, ...] = ("ja", "lidt", "nej")
FEEDBACK_WRITE_AGAIN: tuple[str, ...] = ("ja", "maaske", "nej")
FEEDBACK_RATINGS: tuple[str, ...] = ("1", "2", "3", "4", "5")

#: Minutes: [lower, upper) per bucket; the last bucket has no upper bound.
DURATION_BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("0-1", 0, 1),
    ("1-5", 1, 5),
    ("5-15", 5, 15),
    ("15-30", 15, 30),
    ("30-60", 30, 60),
    ("60-120", 60, 120),
    ("120-480", 120, 480),
    ("480+", 480, None),
)
UNANSWERED = "unanswered"

#: The volume rows: not additive (a handed-off conversation is also started).
VOLUME_METRICS: tuple[str, ...] = (
    "started",
    "handed_off",
    "answered",
    "abandoned",
    "letterbox_left",
    "letterbox_picked_up",
)


def bucket(minutes: float) -> str:
    for key, lower, upper in DURATION_BUCKETS:
        if minutes >= lower and (upper is None or minutes < upper):
            return key
    return DURATION_BUCKETS[0][0]  # a negative duration (clock skew) counts as under a minute
