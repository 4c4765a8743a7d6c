"""The cost of one rate-limit hit: in memory versus the shared PostgreSQL table (issue #18).

    DATABASE_URL=postgresql+psycopg://user:pw@127.0.0.1:5432/somedb \\
        .venv-service/bin/python bench/rate_limit_bench.py [--hits 2000] [--deadline 120]

Runs the service's migrations on that database (so `rate_counters` exists), then times, on
loopback, exactly what a request does (handoff_service/ratelimit.py, the database's clock):

1. `RateLimiter.hit` in memory (the SQLite default), for comparison;
2. one `SharedRateLimiter.hit` (one INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING in
   autocommit through the limiter's own pool), messages limit 30/min over 50 conversations,
   so both allowed and refused hits are in the mix;
3. the same on one hot key with a 300-hit window (the service-wide ceiling on new
   conversations, the largest array a row holds);
4. two "processes" (two stores, two pools) with 4 threads each on that hot key at once: hits
   per second and the latency under row-lock contention;
5. a login's guard work (the look and the count, then the right password's clean-up).

Bounded by --hits per series and --deadline seconds; deletes its own rows at the end (the
login rows, keyed by a random hash, expire within the hour).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from handoff_service.db import make_engine  # noqa: E402
from handoff_service.migrations import upgrade_database  # noqa: E402
from handoff_service.ratelimit import (  # noqa: E402
    CounterStore,
    LoginAttempt,
    RateLimiter,
    SharedKey,
    SharedLoginGuard,
    SharedRateLimiter,
)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def timed(action: Callable[[int], object], count: int, deadline: float) -> list[float]:
    samples = []
    for n in range(count):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        action(n)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=2000, help="hits per series")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds for the run")
    parser.add_argument("--out", type=Path, default=ROOT / "results/bench/rate_limits.json")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database of the benchmark's own")
    deadline = time.monotonic() + args.deadline
    engine = make_engine(url)
    upgrade_database(engine)
    run = uuid.uuid4().hex[:8]
    results: dict[str, object] = {"hits_per_series": args.hits}

    memory = RateLimiter(30)
    conversations = [str(uuid.uuid4()) for _ in range(50)]
    started = time.perf_counter()
    for n in range(args.hits * 10):
        memory.hit(conversations[n % 50])
    results["memory_hit_us"] = round((time.perf_counter() - started) / (args.hits * 10) * 1e6, 2)

    store = CounterStore.beside(engine)
    messages = SharedRateLimiter(store, f"bench{run}", 30)
    messages.hit("warm-up")
    refused = [0]

    def message_hit(n: int) -> None:
        if messages.hit(conversations[n % 50]) is not None:
            refused[0] += 1

    results["shared_hit_messages"] = {
        **summary(timed(message_hit, args.hits, deadline)),
        "refused": refused[0],
    }
    starts = SharedRateLimiter(store, f"bench{run}", 300)
    results["shared_hit_hot_key_300"] = summary(
        timed(lambda _n: starts.hit("service"), args.hits, deadline)
    )

    # Two processes, four threads each, on the one hot key.
    stores = [CounterStore.beside(engine, pool_size=4) for _ in range(2)]
    limiters = [SharedRateLimiter(s, f"bench{run}", 300) for s in stores]
    for limiter in limiters:
        limiter.hit("warm-up")
    per_thread = max(1, args.hits // 8)
    samples: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(limiter: SharedRateLimiter) -> None:
        barrier.wait()
        mine = timed(lambda _n: limiter.hit("hot"), per_thread, deadline)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, args=(limiters[i % 2],)) for i in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    results["shared_hit_contended_2x4_threads"] = {
        **summary(samples),
        "hits_per_second": round(len(samples) / elapsed),
    }

    guard = SharedLoginGuard(store, 60, SharedKey(uuid.uuid4().hex * 2))

    def login(n: int) -> None:
        attempt = guard.begin(f"bench{run}-{n % 50}", f"client{n % 7}")
        if isinstance(attempt, LoginAttempt):
            guard.succeeded(attempt)

    results["shared_login_begin_and_succeeded"] = summary(
        timed(login, max(1, args.hits // 4), deadline)
    )

    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM rate_counters WHERE key LIKE :mine"),
            {"mine": f"bench{run}:%"},
        )
    for each in (store, *stores):
        each.engine.dispose()
    engine.dispose()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
