"""Claiming under contention: 20 counsellors at once on PostgreSQL, each conversation once."""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql

from handoff_service import queue as queue_ops
from handoff_service.db import make_engine, make_session_factory, utcnow
from handoff_service.migrations import upgrade_database
from handoff_service.models import AuditEvent, Conversation, User
from triage_core.risk import RISK_BY_RANK

# Load and timing: make test runs these without a second pytest worker beside them.
pytestmark = pytest.mark.alone

COUNSELLORS = 20
WAITING = 1_000


def test_claim_is_one_statement_with_skip_locked_in_queue_order():
    sql = str(queue_ops.claim_statement(1, utcnow()).compile(dialect=postgresql.dialect()))
    assert sql.startswith("UPDATE conversations SET status=")
    assert "ORDER BY conversations.risk_rank DESC, conversations.queued_at, conversations.id" in sql
    assert (
        "LIMIT" in sql and "FOR UPDATE SKIP LOCKED" in sql and "RETURNING conversations.id" in sql
    )


@dataclass(frozen=True)
class QueueEntry:
    conversation_id: str
    risk_rank: int
    queued_at: datetime


def queue_sort_key(entry: QueueEntry) -> tuple[int, datetime, str]:
    """The queue order as the product promises it: most urgent first, then first come."""
    return (-entry.risk_rank, entry.queued_at, entry.conversation_id)


def fill_queue(session_factory, rng: random.Random) -> dict[str, QueueEntry]:
    start = utcnow() - timedelta(hours=5)
    entries: dict[str, QueueEntry] = {}
    with session_factory() as session:
        for number in range(WAITING):
            rank = rng.choices([2, 1, 0], weights=[1, 2, 7])[0]
            # Every tenth shares its queue time with the one before, so the id tie-break is used.
            queued_at = start + timedelta(seconds=number - (number % 10 == 1))
            conversation = Conversation(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                token_hash=uuid.uuid4().hex,
                status="queued",
                risk=RISK_BY_RANK[rank],
                risk_rank=rank,
                triage={},
                queued_at=queued_at,
            )
            session.add(conversation)
            entries[conversation.id] = QueueEntry(conversation.id, rank, queued_at)
        session.add_all(
            User(username=f"raadgiver{n}", role="counsellor", password_hash="-")  # noqa: S106
            for n in range(COUNSELLORS)
        )
        session.commit()
    return entries


@pytest.mark.postgres
def test_twenty_counsellors_claim_a_thousand_conversations_each_once_in_risk_order(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    session_factory = make_session_factory(engine)
    entries = fill_queue(session_factory, random.Random(20261122))  # noqa: S311 - test data
    with session_factory() as session:
        counsellors = list(session.scalars(select(User)))
    sequence = itertools.count()
    claims: list[tuple[int, str, int]] = []  # (order the claim statement returned, id, counsellor)
    record = threading.Lock()
    start = threading.Barrier(COUNSELLORS)
    failures: list[BaseException] = []

    def counsellor_claims(user: User) -> None:
        try:
            start.wait()
            with session_factory() as session:
                while True:
                    conversation = queue_ops.claim_next(session, user, utcnow())
                    if conversation is None:
                        session.rollback()
                        return
                    with record:
                        claims.append((next(sequence), conversation.id, user.id))
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=counsellor_claims, args=(user,)) for user in counsellors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)

    claimed_ids = [conversation_id for _, conversation_id, _ in claims]
    assert len(claimed_ids) == WAITING and set(claimed_ids) == entries.keys(), (
        "every conversation exactly once"
    )
    with session_factory() as session:
        owners = dict(session.execute(select(Conversation.id, Conversation.counsellor_id)).all())
        assert session.scalar(select(func.count()).where(Conversation.status != "active")) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.action == "claim")) == WAITING
    assert all(owners[conversation_id] == user_id for _, conversation_id, user_id in claims)
    assert len({user_id for _, _, user_id in claims}) >= COUNSELLORS // 2, (
        "the claims really ran side by side"
    )

    # Risk order: when a claim picked its row, every row ahead of it in queue order was already
    # taken or being taken by one of the other 19 counsellors, so at most 19 rows ahead of any
    # claim can have been recorded after it.
    queue_order = {
        e.conversation_id: place
        for place, e in enumerate(sorted(entries.values(), key=queue_sort_key))
    }
    by_claim = [queue_order[conversation_id] for _, conversation_id, _ in sorted(claims)]
    worst = max(
        sum(1 for later in by_claim[i + 1 :] if later < place) for i, place in enumerate(by_claim)
    )
    assert worst <= COUNSELLORS - 1, f"a claim jumped {worst} more urgent conversations"
    risks_in_claim_order = [
        entries[conversation_id].risk_rank for _, conversation_id, _ in sorted(claims)
    ]
    criticals = risks_in_claim_order.count(2)
    assert min(risks_in_claim_order[: criticals - COUNSELLORS]) == 2, (
        "the critical ones are taken first"
    )
    engine.dispose()
