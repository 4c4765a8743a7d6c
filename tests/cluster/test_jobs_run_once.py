"""The retention job runs in one service process at a time (handoff_service/job_lock.py), here
with both processes running it every 1.2 s (tests/cluster/conftest.py)."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from handoff_service.job_lock import lock_key
from tests.cluster.support import connect, start_conversation

pytestmark = pytest.mark.cluster

DELETED = re.compile(r"retention: deleted (\d+) conversations")


def deleted_per_process(cluster) -> dict[str, int]:
    counts = {}
    for name in ("a", "b"):
        log = (cluster.log_dir / name / "service.log").read_text(encoding="utf-8", errors="replace")
        counts[name] = sum(int(n) for n in DELETED.findall(log))
    return counts


def test_retention_runs_once_across_both_processes(cluster):
    with httpx.Client(base_url=cluster.url, timeout=90) as client:
        ids = [start_conversation(client)[0]["id"] for _ in range(6)]
    before = deleted_per_process(cluster)
    key = lock_key("retention")
    with connect(cluster.database_url) as holder, connect(cluster.database_url) as db:
        # The test holds the job's lock as a third "process" would.
        assert holder.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        # Idle with the bot for longer than retention allows: due for deletion.
        db.execute(
            "UPDATE conversations SET updated_at = now() - interval '60 days' WHERE id = ANY(%s)",
            (ids,),
        )
        trackers = "SELECT count(*) FROM events WHERE sender_id = ANY(%s)"
        assert db.execute(trackers, (ids,)).fetchone()[0], "Rasa's trackers are in PostgreSQL"
        time.sleep(4)  # three rounds of each process's job
        remaining = db.execute(
            "SELECT count(*) FROM conversations WHERE id = ANY(%s)", (ids,)
        ).fetchone()[0]
        assert remaining == len(ids), "a process ran retention while another held its lock"

        holder.execute("SELECT pg_advisory_unlock(%s)", (key,))
        deadline = time.monotonic() + 30
        while db.execute(
            "SELECT count(*) FROM conversations WHERE id = ANY(%s)", (ids,)
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "retention did not run after the lock was free"
            time.sleep(0.2)
        assert not db.execute(trackers, (ids,)).fetchone()[0], "the trackers went with them"
    time.sleep(2)  # the other process's next round, and the log lines written
    after = deleted_per_process(cluster)
    runs = {name: after[name] - before[name] for name in after}
    print(f"\nconversations deleted per process: {runs}")
    # Exactly one process deleted them; the other found nothing left (no double run, no error).
    assert sum(runs.values()) == len(ids)
    assert sorted(runs.values()) == [0, len(ids)]
