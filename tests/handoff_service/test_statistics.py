"""Statistics that outlive retention (docs/statistics.md): a scripted set of conversations gives
exactly the expected counts, recording again never double counts, retention leaves every count
unchanged, no text or id reaches the counts, and service hours are counted once per hour."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from handoff_service import conversations as ops
from handoff_service import queue as queue_ops
from handoff_service.models import (
    Conversation,
    Message,
    ShiftException,
    StatCell,
    StatServiceHour,
    User,
    WeeklyShift,
)
from handoff_service.retention import purge_expired
from handoff_service.schemas import Triage
from handoff_service.statistics import record, record_service_hours
from handoff_service.statistics.answers import (
    FeedbackIn,
    RegistrationIn,
    save_feedback,
    save_registration,
)
from handoff_service.statistics.codes import (
    AGE_BANDS,
    DURATION_BUCKETS,
    FEEDBACK_HELPED,
    FEEDBACK_RATINGS,
    FEEDBACK_WRITE_AGAIN,
    GENDERS,
    OUTCOMES,
    REFERRALS,
    REGISTRATION_TOPICS,
    RISKS,
    TOPICS,
    UNANSWERED,
    bucket,
)
from handoff_service.statistics.facts import iso_week
from tests.utils.factories import make_user

# Monday 2 November 2026, 10:15 in Copenhagen (CET): ISO week 2026-W45, hour 10.
START = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
WEEK, HOUR = "2026-W45", 10
SECRET = "ZEBRA-HEMMELIG-7731"  # noqa: S105 - a distinctive text, not a password


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def cells(session: Session) -> Counter[tuple[str, str, int, str, str]]:
    session.expire_all()
    return Counter(
        {
            (c.organisation, c.period_week, c.hour_of_day, c.metric, c.category): c.count
            for c in session.scalars(select(StatCell))
            if c.count
        }
    )


def here(**counts: int) -> Counter[tuple[str, str, int, str, str]]:
    """Cells of the scripted week and hour; keys are "metric:category"."""
    found: Counter[tuple[str, str, int, str, str]] = Counter()
    for key, count in counts.items():
        metric, category = key.split("__")
        found[("default", WEEK, HOUR, metric, category)] = count
    return found


class Script:
    def __init__(self, session: Session, counsellor: User) -> None:
        self.session = session
        self.counsellor = counsellor

    def start(self, minute: float = 0) -> Conversation:
        conversation, _ = ops.create_conversation(self.session)
        conversation.created_at = conversation.updated_at = at(minute)
        record(self.session, conversation)
        ops.add_message(self.session, conversation, "young", f"{SECRET} {conversation.id}")
        self.session.commit()
        return conversation

    def message(self, conversation: Conversation, sender: str, minute: float) -> None:
        message = ops.add_message(self.session, conversation, sender, f"{SECRET} svar")
        message.created_at = at(minute)
        self.session.commit()

    def hand_off(self, conversation: Conversation, minute: float, **triage) -> None:
        queue_ops.hand_off(self.session, conversation, Triage(**triage), at(minute))
        self.session.commit()

    def claim(self, conversation: Conversation, minute: float) -> None:
        conversation.status, conversation.counsellor_id = "active", self.counsellor.id
        conversation.claimed_at = at(minute)
        self.session.commit()

    def close(self, conversation: Conversation, outcome: str, minute: float) -> None:
        ops.close(self.session, conversation, self.counsellor, outcome, at(minute))
        self.session.commit()


@pytest.fixture
def script(session: Session) -> Script:
    return Script(session, make_user(session, "statistik-radgiver"))


def run_script(script: Script) -> dict[str, Conversation]:
    s = script
    # 1. Bot only: the young person ends it and answers the feedback.
    bot = s.start()
    save_feedback(s.session, bot, FeedbackIn(helped="ja", write_again="maaske"))
    s.session.commit()
    # 2. Handed off, answered after 3 minutes, 26 minutes of conversation, registered twice.
    answered = s.start()
    s.hand_off(answered, 1, topic="parent_alcohol", intents=["parent_alcohol"])
    s.claim(answered, 2)
    s.message(answered, "counsellor", 4)
    s.close(answered, "talked", 30)
    first = RegistrationIn(
        topics=["parent_alcohol", "feeling_sad"], age_band="13_15", gender="pige", referral="ingen"
    )
    save_registration(s.session, answered, s.counsellor, first)
    s.session.commit()
    changed = RegistrationIn(
        topics=["parent_alcohol"], age_band="16_18", gender="pige", referral="kommune"
    )
    save_registration(s.session, answered, s.counsellor, changed)
    save_feedback(s.session, answered, FeedbackIn(helped="lidt", rating=4))
    s.session.commit()
    # 3. Handed off, nobody answered before the young person left.
    abandoned = s.start()
    s.hand_off(abandoned, 2, intents=["request_human"], reason="young_request")
    s.close(abandoned, "no_response", 50)
    # 4. An answer left for later, picked up, answered again and closed again.
    letter = s.start()
    s.hand_off(letter, 1, topic="feeling_anxious", intents=["feeling_anxious"])
    s.claim(letter, 3)
    s.message(letter, "counsellor", 20)
    s.close(letter, "answered_letterbox", 21)
    s.hand_off(letter, 200, reason="young_returned")
    s.claim(letter, 205)
    s.message(letter, "counsellor", 206)
    s.close(letter, "talked", 240)
    # 5. Critical, answered at once, closed with emergency services; recorded again for nothing.
    critical = s.start()
    s.hand_off(critical, 0, risk="critical", intents=["suicidal"], topic="suicidal")
    s.claim(critical, 0.2)
    s.message(critical, "counsellor", 0.5)
    s.close(critical, "emergency_services", 600)
    record(s.session, critical)
    record(s.session, letter)
    s.session.commit()
    return {
        "bot": bot,
        "answered": answered,
        "abandoned": abandoned,
        "letter": letter,
        "critical": critical,
    }


EXPECTED = here(
    started__all=5,
    handed_off__all=4,
    answered__all=3,
    abandoned__all=1,
    letterbox_left__all=1,
    letterbox_picked_up__all=1,
    risk_all__normal=4,
    risk_all__critical=1,
    risk__normal=3,
    risk__critical=1,
    topic__unknown=2,
    topic__parent_alcohol=1,
    topic__feeling_anxious=1,
    topic__suicidal=1,
    # answered: 1 -> 4 min; letter: re-queued at 200, answered at 206; critical: 0.5 min.
    **{"wait__1-5": 1, "wait__5-15": 1, "wait__0-1": 1, "wait__unanswered": 1},
    # answered: 4 -> 30; letter: 206 -> 240; critical: 0.5 -> 600.
    **{"handling__15-30": 1, "handling__30-60": 1, "handling__480+": 1},
    outcome__talked=2,
    outcome__no_response=1,
    outcome__emergency_services=1,
    feedback_helped__ja=1,
    feedback_helped__lidt=1,
    feedback_write_again__maaske=1,
    feedback_rating__4=1,
    registration_topic__parent_alcohol=1,
    registration_age__16_18=1,
    registration_gender__pige=1,
    registration_referral__kommune=1,
)


def test_a_scripted_set_of_conversations_gives_exactly_the_expected_counts(session, script):
    run_script(script)
    assert cells(session) == EXPECTED


def test_retention_deletes_the_conversations_and_leaves_every_count_unchanged(
    session, script, settings
):
    run_script(script)
    before = cells(session)
    result = purge_expired(session, settings, datetime.now(UTC) + timedelta(days=400))
    assert result.conversations == 5
    assert session.scalar(select(Conversation.id).limit(1)) is None
    assert session.scalar(select(Message.id).limit(1)) is None
    assert cells(session) == before == EXPECTED


def test_a_bot_conversation_changed_after_its_last_record_is_counted_right_before_deletion(
    session, script, settings
):
    """Retention records first: a topic learned after the last record still counts."""
    conversation = script.start()
    conversation.topic = "conflict_home"  # the bot's triage, not recorded yet
    session.commit()
    purge_expired(session, settings, datetime.now(UTC) + timedelta(days=400))
    assert cells(session) == here(started__all=1, risk_all__normal=1, topic__conflict_home=1)


def test_recording_is_idempotent_and_a_moved_start_moves_every_cell(session, script):
    conversation = script.start()
    for _ in range(3):
        record(session, conversation)
    session.commit()
    assert cells(session) == here(started__all=1, risk_all__normal=1, topic__unknown=1)
    conversation.created_at = START + timedelta(days=7)
    record(session, conversation)
    session.commit()
    week, hour = iso_week(conversation.created_at)
    assert week == "2026-W46" and hour == HOUR
    assert cells(session) == Counter(
        {
            ("default", week, hour, "started", "all"): 1,
            ("default", week, hour, "risk_all", "normal"): 1,
            ("default", week, hour, "topic", "unknown"): 1,
        }
    )


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "0-1"), (0.99, "0-1"), (1, "1-5"), (14.9, "5-15"), (59, "30-60"), (60, "60-120")]
    + [(479, "120-480"), (480, "480+"), (10_000, "480+"), (-3, "0-1")],
)
def test_duration_buckets(minutes, expected):
    assert bucket(minutes) == expected


@pytest.mark.parametrize(
    ("moment", "week", "hour"),
    [
        (datetime(2026, 11, 2, 9, 15, tzinfo=UTC), "2026-W45", 10),  # CET
        (datetime(2026, 7, 1, 22, 30, tzinfo=UTC), "2026-W27", 0),  # CEST, next local day
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2026-W53", 0),  # 1 Jan 2027 local
        (datetime(2027, 1, 4, 0, 0, tzinfo=UTC), "2027-W01", 1),
    ],
)
def test_weeks_and_hours_are_copenhagen_local_time(moment, week, hour):
    assert iso_week(moment) == (week, hour)


# -- no text, no ids ---------------------------------------------------------------------------

ALLOWED = {
    "started": {"all"},
    "handed_off": {"all"},
    "answered": {"all"},
    "abandoned": {"all"},
    "letterbox_left": {"all"},
    "letterbox_picked_up": {"all"},
    "service_hours": {"all"},
    "risk": set(RISKS),
    "risk_all": set(RISKS),
    "topic": set(TOPICS),
    "wait": {key for key, _, _ in DURATION_BUCKETS} | {UNANSWERED},
    "handling": {key for key, _, _ in DURATION_BUCKETS},
    "outcome": set(OUTCOMES),
    "feedback_helped": set(FEEDBACK_HELPED),
    "feedback_write_again": set(FEEDBACK_WRITE_AGAIN),
    "feedback_rating": set(FEEDBACK_RATINGS),
    "registration_topic": set(REGISTRATION_TOPICS),
    "registration_age": set(AGE_BANDS),
    "registration_gender": set(GENDERS),
    "registration_referral": set(REFERRALS),
}


def test_no_text_and_no_id_ever_reaches_the_counts(session, script, settings):
    conversations = run_script(script)
    ids = {c.id for c in conversations.values()}
    token_hashes = {c.token_hash for c in conversations.values()}
    users = list(session.scalars(select(User)))
    forbidden = {SECRET, *ids, *token_hashes, *(u.username for u in users)}
    forbidden |= {part for conversation_id in ids for part in conversation_id.split("-")}

    def dump() -> list[tuple]:
        session.expire_all()
        rows = [
            tuple(getattr(c, column) for column in ("organisation", "period_week", "metric"))
            + (c.category, c.hour_of_day, c.count)
            for c in session.scalars(select(StatCell))
        ]
        rows += [
            (h.organisation, h.hour_start.isoformat())
            for h in session.scalars(select(StatServiceHour))
        ]
        return rows

    for rows in (dump(), (purge_expired(session, settings, at(10**6)), dump())[1]):
        text = repr(rows)
        assert rows and not [value for value in forbidden if value in text]
        for row in rows:
            if len(row) == 6:
                organisation, week, metric, category, hour, count = row
                assert organisation == "default" and 0 <= hour <= 23 and count >= 0
                assert category in ALLOWED[metric], row
                assert len(week) == 8 and week[4:6] == "-W"
    # The tables have no column that could hold an id, a text or a time finer than the hour.
    columns = {c["name"] for c in inspect(session.get_bind()).get_columns("stat_cells")}
    assert columns == {
        "id",
        "organisation",
        "period_week",
        "hour_of_day",
        "metric",
        "category",
        "count",
    }
    hour_columns = inspect(session.get_bind()).get_columns("stat_service_hours")
    assert {c["name"] for c in hour_columns} == {"id", "organisation", "hour_start"}


def test_a_category_outside_the_fixed_codes_is_never_stored(session, script):
    conversation = script.start()
    conversation.topic = f"{SECRET} emne"
    conversation.risk = "weird"
    record(session, conversation)
    session.commit()
    assert cells(session) == here(started__all=1, risk_all__normal=1, topic__unknown=1)


# -- service hours -----------------------------------------------------------------------------


def test_each_hour_with_a_counsellor_on_shift_is_counted_once(session):
    session.execute(delete(WeeklyShift))
    session.execute(delete(ShiftException))
    # Mondays 10:00-12:30 local, and a Monday shift with nobody on it.
    session.add(
        WeeklyShift(
            organisation_id=1, weekday=0, starts_at=time(10, 0), ends_at=time(12, 30), counsellors=1
        )
    )
    session.add(
        WeeklyShift(
            organisation_id=1, weekday=0, starts_at=time(16, 0), ends_at=time(17, 0), counsellors=0
        )
    )
    session.commit()
    now = datetime(2026, 11, 2, 12, 10, tzinfo=UTC)  # Monday 13:10 local
    assert record_service_hours(session, datetime(2026, 11, 2, 9, 5, tzinfo=UTC)) == 1
    assert record_service_hours(session, now) == 2
    for _ in range(3):  # restarts, other processes
        assert record_service_hours(session, now) == 0
    assert record_service_hours(session, now + timedelta(hours=5)) == 0
    assert cells(session) == Counter(
        {("default", "2026-W45", hour, "service_hours", "all"): 1 for hour in (10, 11, 12)}
    )
    assert len(list(session.scalars(select(StatServiceHour)))) == 3


# -- two records of one conversation at once (PostgreSQL: row locks) ---------------------------


@pytest.mark.postgres
def test_two_concurrent_records_of_one_conversation_never_double_count(client, session):
    """A records feedback and holds its transaction open; B changes the topic meanwhile. B waits
    for A's lock, then diffs against what A stored: every cell ends at exactly one."""
    import threading

    factory = client.app.state.session_factory
    conversation, _ = ops.create_conversation(session)
    conversation.created_at = START
    record(session, conversation)
    session.commit()
    conversation_id = conversation.id
    a_recorded, errors = threading.Event(), []

    def a() -> None:
        try:
            with factory() as own:
                mine = own.get(Conversation, conversation_id)
                assert mine is not None
                save_feedback(own, mine, FeedbackIn(helped="ja"))
                a_recorded.set()
                threading.Event().wait(0.5)
                own.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
            a_recorded.set()

    def b() -> None:
        try:
            a_recorded.wait(5)
            with factory() as own:
                mine = own.get(Conversation, conversation_id)
                assert mine is not None and mine.feedback is None  # A has not committed yet
                mine.topic = "violence"
                record(own, mine)
                own.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    expected = here(started__all=1, risk_all__normal=1, topic__violence=1, feedback_helped__ja=1)
    assert cells(session) == expected
    stored = session.get(Conversation, conversation_id, populate_existing=True)
    assert stored is not None
    record(session, stored)
    session.commit()
    assert cells(session) == expected
