"""The queue order is written once (handoff_service.queue.QUEUE_ORDER) and everything agrees.

Claiming, the counsellor's waiting list, every young person's place (the count form) and the
queue index all follow it: the most urgent first, then first come, then id.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.dialects import postgresql, sqlite

from handoff_service import queue as queue_ops
from handoff_service.db import utcnow
from handoff_service.models import Conversation
from tests.utils.factories import make_queued_conversation, make_user

T0 = utcnow() - timedelta(hours=2)


def _compiled(expressions, dialect) -> list[str]:
    return [str(e.compile(dialect=dialect)) for e in expressions]


def test_the_queue_index_is_the_queue_order_after_status():
    index = next(i for i in Conversation.__table__.indexes if i.name == "ix_conversations_queue")
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert _compiled(index.expressions, dialect) == _compiled(
            (Conversation.status, *queue_ops.QUEUE_ORDER), dialect
        )


def test_places_are_risk_first_then_time(session):
    normal_early = make_queued_conversation(session, risk="normal", queued_at=T0)
    critical_late = make_queued_conversation(
        session, risk="critical", queued_at=T0 + timedelta(minutes=30)
    )
    high = make_queued_conversation(session, risk="high", queued_at=T0 + timedelta(minutes=10))
    normal_late = make_queued_conversation(
        session, risk="normal", queued_at=T0 + timedelta(minutes=1)
    )
    expected = {critical_late.id: 1, high.id: 2, normal_early.id: 3, normal_late.id: 4}
    assert queue_ops.all_queue_positions(session) == expected
    for conversation in (normal_early, critical_late, high, normal_late):
        assert queue_ops.queue_position(session, conversation) == expected[conversation.id]


def test_places_break_ties_on_id_so_every_database_agrees(session):
    first, second = (make_queued_conversation(session, queued_at=T0) for _ in range(2))
    low, high = sorted((first, second), key=lambda c: c.id)
    assert queue_ops.all_queue_positions(session) == {low.id: 1, high.id: 2}
    assert queue_ops.queue_position(session, high) == 2


def test_count_form_waiting_list_and_claims_agree_on_random_queues(session):
    rng = random.Random(12)  # noqa: S311 - reproducible test data
    counsellor = make_user(session)
    for _ in range(40):
        make_queued_conversation(
            session,
            risk=rng.choices(["critical", "high", "normal"], weights=[1, 2, 6])[0],
            # Some share a queue time, so the id tie-break is used.
            queued_at=T0 + timedelta(seconds=rng.randrange(15)),
        )
    ordered = [c.id for c in queue_ops.waiting_conversations(session)]
    positions = queue_ops.all_queue_positions(session)
    assert [cid for cid, _ in sorted(positions.items(), key=lambda item: item[1])] == ordered
    for conversation in queue_ops.waiting_conversations(session):
        assert queue_ops.queue_position(session, conversation) == positions[conversation.id]

    claimed = []
    while (taken := queue_ops.claim_next(session, counsellor, utcnow())) is not None:
        claimed.append(taken.id)
        session.commit()
    assert claimed == ordered
