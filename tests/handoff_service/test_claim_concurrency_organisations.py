"""Claiming under contention across organisations (issue #16), on PostgreSQL: 20 counsellors of
two network members, one municipality outside the network and the network's own staff claim at
once from the local queues and the network's; each conversation is claimed exactly once, and
only by someone who may take from its queue."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handoff_service import organisations as orgs
from handoff_service import queue as queue_ops
from handoff_service.db import make_engine, make_session_factory, utcnow
from handoff_service.migrations import upgrade_database
from handoff_service.models import AuditEvent, Conversation, Organisation, User
from triage_core.risk import RISK_BY_RANK

# Load and timing: make test runs these without a second pytest worker beside them.
pytestmark = pytest.mark.alone

#: counsellors per organisation: 6 + 5 + 5 + 4 = 20
STAFF = {"aaby": 6, "bakkeby": 5, "fjordby": 5, "faelles": 4}
#: conversations waiting in each organisation's queue
WAITING = {"aaby": 150, "bakkeby": 100, "fjordby": 150, "faelles": 200}


def build(session_factory, rng: random.Random) -> tuple[dict[str, int], dict[str, int]]:
    """The organisations, their staff and their queues: ({slug: id}, {conversation: queue id})."""
    with session_factory() as session:
        network = Organisation(slug="faelles", name="Fælleschatten", kind="network")
        session.add(network)
        session.flush()
        members = [
            Organisation(slug=slug, name=name, network_id=network.id)
            for slug, name in (("aaby", "Åby Kommune"), ("bakkeby", "Bakkeby Kommune"))
        ]
        outside = Organisation(slug="fjordby", name="Fjordby Kommune")
        session.add_all([*members, outside])
        session.flush()
        ids = {o.slug: o.id for o in (network, *members, outside)}
        for slug, count in STAFF.items():
            session.add_all(
                User(
                    username=f"{slug}-{n}",
                    role="counsellor",
                    organisation_id=ids[slug],
                    password_hash="-",  # noqa: S106 - test data
                )
                for n in range(count)
            )
        start = utcnow() - timedelta(hours=3)
        queues: dict[str, int] = {}
        for slug, count in WAITING.items():
            for number in range(count):
                rank = rng.choices([2, 1, 0], weights=[1, 2, 7])[0]
                conversation = Conversation(
                    id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    token_hash=uuid.uuid4().hex,
                    status="queued",
                    risk=RISK_BY_RANK[rank],
                    risk_rank=rank,
                    triage={},
                    queued_at=start + timedelta(seconds=number),
                    organisation_id=ids[slug],
                    origin_organisation_id=ids[slug],
                    queue_reason=orgs.OWN_OPEN,
                )
                session.add(conversation)
                queues[conversation.id] = ids[slug]
        session.commit()
    return ids, queues


@pytest.mark.postgres
def test_twenty_counsellors_of_three_organisations_and_a_network_claim_each_conversation_once(
    database_url,
):
    engine = make_engine(database_url)
    upgrade_database(engine)
    session_factory = make_session_factory(engine)
    ids, queues = build(session_factory, random.Random(20261207))  # noqa: S311 - test data
    with session_factory() as session:
        counsellors = list(session.scalars(select(User).where(User.organisation_id.is_not(None))))
        allowed = {user.id: orgs.queue_ids_for(session, user) for user in counsellors}
    assert len(counsellors) == 20
    network, aaby, fjordby = ids["faelles"], ids["aaby"], ids["fjordby"]
    by_name = {user.username: user.id for user in counsellors}
    assert allowed[by_name["aaby-0"]] == {aaby, network}
    assert allowed[by_name["fjordby-0"]] == {fjordby}
    assert allowed[by_name["faelles-0"]] == {network}

    claims: list[tuple[str, int]] = []
    record = threading.Lock()
    start = threading.Barrier(len(counsellors))
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
                    session.commit()
                    with record:
                        claims.append((conversation.id, user.id))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=counsellor_claims, args=(user,)) for user in counsellors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)

    claimed = Counter(conversation_id for conversation_id, _ in claims)
    assert set(claimed) == set(queues), "every conversation claimed"
    assert max(claimed.values()) == 1, "and each exactly once"
    outsiders = [
        (conversation_id, user_id)
        for conversation_id, user_id in claims
        if queues[conversation_id] not in allowed[user_id]
    ]
    assert outsiders == [], "claimed by someone outside its queue"
    with session_factory() as session:
        owners = dict(session.execute(select(Conversation.id, Conversation.counsellor_id)).all())
        assert session.scalar(select(func.count()).where(Conversation.status != "active")) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.action == "claim")) == len(
            queues
        )
    assert all(owners[conversation_id] == user_id for conversation_id, user_id in claims)
    # The network's queue really was shared: its own staff and both members' took from it.
    network_takers = {
        user_id for conversation_id, user_id in claims if queues[conversation_id] == network
    }
    organisation_of_user = {user.id: user.organisation_id for user in counsellors}
    assert {organisation_of_user[u] for u in network_takers} == {network, aaby, ids["bakkeby"]}
    assert len({user_id for _, user_id in claims}) >= 15, "the claims really ran side by side"
    engine.dispose()
