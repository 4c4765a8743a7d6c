"""Rasa in the cluster: either server serves any conversation, and neither a crash of one nor
its restart loses a conversation's context (trackers in PostgreSQL, locks in Redis)."""

from __future__ import annotations

import httpx
import pytest

from tests.cluster.support import redis_info, start_conversation

pytestmark = pytest.mark.cluster

# The two-turn exchange of tests/e2e/test_rasa_trackers.py: the follow-up is answered from the
# topic, so the answer tells whether Rasa still knows it.
TOPIC = "min far drikker hver aften og så bliver han sur"
FOLLOW_UP = "hvad kan jeg gøre"


def lock_writes(cluster) -> int:
    """SET commands Redis has run: Rasa's RedisLockStore writes a conversation's lock with one."""
    stats = redis_info(cluster.redis_url, "commandstats").get("cmdstat_set", "calls=0")
    return int(stats.split(",")[0].removeprefix("calls="))


def say(client: httpx.Client, conversation, text: str) -> str:
    body, headers = conversation
    response = client.post(
        f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return " ".join(m["text"] for m in response.json()["messages"])


def test_a_rasa_crash_and_restart_keep_the_conversations_context(cluster):
    locks_before = lock_writes(cluster)
    with httpx.Client(base_url=cluster.url, timeout=90) as client:
        failover, restarted, unbroken, fresh = (start_conversation(client) for _ in range(4))
        for conversation in (failover, restarted, unbroken):
            say(client, conversation, TOPIC)
        with_context = say(client, unbroken, FOLLOW_UP)
        without_context = say(client, fresh, FOLLOW_UP)
        assert with_context != without_context

        # Rasa 1 crashes (SIGKILL): the balancer sends the next turn to Rasa 2.
        cluster.kill("rasa1")
        assert say(client, failover, FOLLOW_UP) == with_context

        # Rasa 1 starts again, with nothing in memory; Rasa 2 is taken out of the balancer, so
        # the restarted one answers.
        cluster.restart("rasa1", timeout=400)
        cluster.set_server_state("rasa2", "maint")
        try:
            assert say(client, restarted, FOLLOW_UP) == with_context
        finally:
            cluster.set_server_state("rasa2", "ready")

    # Every turn (9 here, 4 greetings included) took its conversation's lock in Redis.
    assert lock_writes(cluster) - locks_before >= 9
