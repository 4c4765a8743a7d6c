"""Background jobs run in one service process at a time (handoff_service/job_lock.py): with two
processes on one PostgreSQL database, the retention job of the second skips the round the first
is running, and runs again once the first is done."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from handoff_service.db import make_engine
from handoff_service.job_lock import lock_key, run_once


def test_the_key_is_stable_and_differs_per_job() -> None:
    assert lock_key("retention") == lock_key("retention")
    assert lock_key("retention") != lock_key("stale claims")
    assert -(2**63) <= lock_key("retention") < 2**63


def test_under_sqlite_the_one_process_always_runs_its_jobs(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'handoff.db'}")
    with run_once(engine, "retention") as first, run_once(engine, "retention") as second:
        assert first and second


@pytest.mark.postgres
def test_two_processes_never_run_the_same_job_at_once(database_url: str) -> None:
    # Two engines stand for two service processes (each has its own connections).
    engines = [make_engine(database_url), make_engine(database_url)]
    start = threading.Barrier(2)
    runs: list[int] = []
    skipped: list[int] = []

    def process(index: int) -> None:
        start.wait()
        with run_once(engines[index], "retention") as held:
            if held:
                runs.append(index)
                time.sleep(0.5)  # the purge takes a while
            else:
                skipped.append(index)

    threads = [threading.Thread(target=process, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(runs) == 1 and len(skipped) == 1

    # The lock went with the run: the next round runs, in either process.
    with run_once(engines[skipped[0]], "retention") as held:
        assert held
    # Another job is not held up by this one.
    with run_once(engines[0], "retention") as a, run_once(engines[1], "stale claims") as b:
        assert a and b
    for engine in engines:
        engine.dispose()


HOLD_AND_WAIT = """
import sys, time
from handoff_service.db import make_engine
from handoff_service.job_lock import run_once
with run_once(make_engine(sys.argv[1]), "retention") as held:
    print(held, flush=True)
    time.sleep(120)
"""


@pytest.mark.postgres
def test_a_process_killed_mid_run_leaves_no_lock_behind(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, database_url], stdout=subprocess.PIPE, text=True
    )
    other = make_engine(database_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        with run_once(other, "retention") as held:
            assert not held
        holder.kill()  # SIGKILL mid-run, as the OOM killer would
        holder.wait(timeout=10)
        deadline = time.monotonic() + 10
        while True:
            with run_once(other, "retention") as held:
                if held or time.monotonic() > deadline:
                    break
            time.sleep(0.2)
        assert held  # the server dropped the dead process's lock with its connection
    finally:
        holder.kill()
        other.dispose()
