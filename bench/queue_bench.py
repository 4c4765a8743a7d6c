"""Measures claim, position and push costs at 100, 1,000 and 10,000 waiting conversations.

    .venv-service/bin/python bench/queue_bench.py                 # SQLite (temporary file)
    .venv-service/bin/python bench/queue_bench.py --postgres      # and PostgreSQL (postgres.sh)
    .venv-service/bin/python bench/queue_bench.py --sizes 100 1000 --json out.json

Runs the service's own functions against a real database (no HTTP, loopback only), prints a
Markdown table and stops by itself. On PostgreSQL it uses TEST_DATABASE_URL or starts the
throw-away cluster with scripts/postgres.sh and stops it again; it refuses any database that is
not on loopback and named *_test, because it drops the schema.

What is measured, per database and queue size N:
- claim: one `claim_next` + commit (the one-statement FOR UPDATE SKIP LOCKED claim + audit row)
- position: `queue_position` for one waiting conversation (two index range counts), median and
  worst of 200 random ones plus the last in line, after 20 unmeasured warm-up queries
- queue_info: what one young person's GET pays: the shared context (shift status, handling time,
  waiting count) plus its position
- push: one `publish_queue_changed` with every waiting young person connected (N live streams):
  one ordered pass over the queue, then one event per stream; "delivered" is until the last
  stream's queue holds its event
- naive push (N <= 1,000): the same, if each connected client's position were counted on its
  own (N position queries) - the approach the single pass replaces
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import AsyncExitStack
from datetime import time as clock
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from handoff_service import queue as queue_ops  # noqa: E402
from handoff_service.config import Settings  # noqa: E402
from handoff_service.db import make_engine, make_session_factory, utcnow  # noqa: E402
from handoff_service.events import EventBroker  # noqa: E402
from handoff_service.migrations import upgrade_database  # noqa: E402
from handoff_service.models import Conversation, User, WeeklyShift  # noqa: E402
from handoff_service.notify import conversation_channel, publish_queue_changed  # noqa: E402
from triage_core.risk import RISK_BY_RANK  # noqa: E402

SIZES = (100, 1_000, 10_000)
CLAIMS = 50
POSITION_SAMPLES = 200
PUSH_REPEATS = 5
WARM_UP = 20
CLAIM_ORDER_SQL = (
    "SELECT id FROM conversations WHERE status = 'queued' "
    "ORDER BY risk_rank DESC, queued_at, id LIMIT 1"
)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


# -- databases ------------------------------------------------------------------------------


def safe_postgres_url(url: str) -> str:
    parts = urlsplit(url)
    host, database = parts.hostname or "", parts.path.lstrip("/")
    if host not in ("127.0.0.1", "localhost", "::1") or not database.endswith("_test"):
        raise SystemExit(
            f"refusing {host}/{database}: the benchmark drops the schema (loopback *_test only)"
        )
    return url


def reset(url: str) -> None:
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fill(session_factory, waiting: int, rng: random.Random) -> User:
    """N waiting (10% critical, 20% high), N closed with handling times, and the evening shifts."""
    now = utcnow()
    with session_factory() as session:
        counsellor = User(username="bench", role="counsellor", password_hash="-")  # noqa: S106
        session.add(counsellor)
        session.add_all(
            WeeklyShift(
                organisation_id=1, weekday=d, starts_at=clock(17), ends_at=clock(21), counsellors=2
            )
            for d in range(4)
        )
        session.flush()
        rows = []
        for number in range(waiting):
            rank = rng.choices([2, 1, 0], weights=[1, 2, 7])[0]
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "token_hash": uuid.uuid4().hex,
                    "status": "queued",
                    "risk": RISK_BY_RANK[rank],
                    "risk_rank": rank,
                    "triage": {},
                    "queued_at": now - timedelta(seconds=waiting - number),
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for number in range(waiting):  # history: the queue index must stay selective
            closed_at = now - timedelta(minutes=number)
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "token_hash": uuid.uuid4().hex,
                    "status": "closed",
                    "risk": "normal",
                    "risk_rank": 0,
                    "triage": {},
                    "counsellor_id": counsellor.id,
                    "queued_at": closed_at - timedelta(minutes=40),
                    "claimed_at": closed_at - timedelta(minutes=rng.uniform(8, 30)),
                    "closed_at": closed_at,
                    "created_at": closed_at,
                    "updated_at": closed_at,
                }
            )
        session.execute(Conversation.__table__.insert(), rows)
        session.commit()
        session.expunge(counsellor)
    return counsellor


# -- push: real asyncio subscribers on a loop in a thread ------------------------------------


class Subscribers:
    def __init__(self, broker: EventBroker, channels: list[str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        broker.bind_loop(self.loop)
        self.stack = AsyncExitStack()
        self.queues = self._call(self._subscribe_all(broker, channels))

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    async def _subscribe_all(self, broker, channels):
        return [
            await self.stack.enter_async_context(broker.subscribe(channel)) for channel in channels
        ]

    def drain(self) -> None:
        async def empty():
            for queue in self.queues:
                while not queue.empty():
                    queue.get_nowait()

        self._call(empty())

    def wait_delivered(self) -> None:
        """Returns once every event scheduled so far has reached its subscriber queue."""

        async def nothing():
            return None

        self._call(nothing())

    def close(self) -> None:
        self._call(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def naive_push(broker: EventBroker, session, settings, now) -> None:
    context = queue_ops.queue_context(session, settings, now)
    for conversation in queue_ops.waiting_conversations(session):
        position = queue_ops.queue_position(session, conversation)
        broker.publish(
            conversation_channel(conversation.id),
            "queue",
            context.info(position).model_dump(mode="json"),
        )


# -- one database, one size -----------------------------------------------------------------


def measure(url: str, waiting: int, seed: int) -> dict:
    reset(url)
    engine = make_engine(url)
    upgrade_database(engine)
    session_factory = make_session_factory(engine)
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    counsellor = fill(session_factory, waiting, rng)
    settings = Settings(
        environment="test", database_url=url, secret_key="b" * 40, internal_api_token="t" * 40
    )
    if url.startswith("postgresql"):
        # Steady state, as autovacuum leaves it: statistics and the visibility map are current.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE conversations"))
    result: dict = {"database": engine.dialect.name, "waiting": waiting}

    with session_factory() as session:
        # Positions over the whole queue: front, middle and the very end.
        waiting_rows = queue_ops.waiting_conversations(session)
        sample = rng.sample(waiting_rows, min(POSITION_SAMPLES, len(waiting_rows))) + [
            waiting_rows[-1]
        ]
        now = utcnow()
        for conversation in sample[:WARM_UP]:  # a fresh connection's first queries load caches
            queue_ops.queue_info(session, settings, conversation, now)
        position_times = [timed(queue_ops.queue_position, session, c)[0] for c in sample]
        info_times = [timed(queue_ops.queue_info, session, settings, c, now)[0] for c in sample]
        result["position_median_ms"] = ms(statistics.median(position_times))
        result["position_max_ms"] = ms(max(position_times))
        result["queue_info_median_ms"] = ms(statistics.median(info_times))

        broker = EventBroker()
        subscribers = Subscribers(broker, [conversation_channel(c.id) for c in waiting_rows])
        push_times, delivered_times = [], []
        for _ in range(PUSH_REPEATS):
            subscribers.drain()
            started = time.perf_counter()
            publish_queue_changed(broker, session, settings, utcnow(), reason="bench")
            push_times.append(time.perf_counter() - started)
            subscribers.wait_delivered()
            delivered_times.append(time.perf_counter() - started)
        result["push_ms"] = ms(statistics.median(push_times))
        result["push_delivered_ms"] = ms(statistics.median(delivered_times))
        result["push_per_client_us"] = round(statistics.median(delivered_times) / waiting * 1e6, 2)
        if waiting <= 1_000:
            subscribers.drain()
            seconds, _ = timed(naive_push, broker, session, settings, utcnow())
            subscribers.wait_delivered()
            result["naive_push_ms"] = ms(seconds)
        subscribers.close()

        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        plan = session.execute(text(explain + CLAIM_ORDER_SQL))
        result["claim_plan"] = " | ".join(str(row[-1]) for row in plan)

    with session_factory() as session:
        claim_times = []
        for _ in range(CLAIMS):
            seconds, claimed = timed(
                lambda: (queue_ops.claim_next(session, counsellor, utcnow()), session.commit())[0]
            )
            assert claimed is not None
            claim_times.append(seconds)
        result["claim_median_ms"] = ms(statistics.median(claim_times))
        result["claim_max_ms"] = ms(max(claim_times))
    engine.dispose()
    return result


# -- main -----------------------------------------------------------------------------------


def postgres_url(started: list[bool]) -> str:
    if url := os.environ.get("TEST_DATABASE_URL"):
        return safe_postgres_url(url)
    script = ROOT / "scripts" / "postgres.sh"
    url = subprocess.run(
        [str(script), "start"], check=True, capture_output=True, text=True
    ).stdout.strip()
    started.append(True)
    return safe_postgres_url(url)


COLUMNS = [
    ("database", "database"),
    ("waiting", "waiting"),
    ("claim_median_ms", "claim ms (median)"),
    ("claim_max_ms", "claim ms (max)"),
    ("position_median_ms", "position ms (median)"),
    ("position_max_ms", "position ms (max)"),
    ("queue_info_median_ms", "GET queue info ms"),
    ("push_ms", "push ms (compute + enqueue)"),
    ("push_delivered_ms", "push ms (all N delivered)"),
    ("push_per_client_us", "push µs per client"),
    ("naive_push_ms", "naive per-client push ms"),
]


def markdown(results: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in results:
        lines.append("| " + " | ".join(str(row.get(key, "–")) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument(
        "--postgres", action="store_true", help="also PostgreSQL (TEST_DATABASE_URL or postgres.sh)"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if max(args.sizes) > 50_000:
        parser.error("sizes above 50,000 are not supported (the benchmark stays bounded)")

    started: list[bool] = []
    urls: list[str] = []
    with tempfile.TemporaryDirectory(prefix="queue-bench-") as folder:
        if not args.no_sqlite:
            urls.append(f"sqlite:///{folder}/bench.db")
        try:
            if args.postgres:
                urls.append(postgres_url(started))
            results = []
            for url in urls:
                for size in args.sizes:
                    row = measure(url, size, args.seed)
                    results.append(row)
                    print(
                        f"{row['database']:>10} {size:>6}: claim {row['claim_median_ms']} ms, "
                        f"position {row['position_median_ms']} ms, "
                        f"push {row['push_delivered_ms']} ms",
                        file=sys.stderr,
                    )
            if urls and urls[-1].startswith("postgresql"):
                reset(urls[-1])
        finally:
            if started:
                subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "stop"], check=False)
    print(markdown(results))
    print()
    for row in results:
        print(f"- {row['database']} N={row['waiting']}: claim plan: {row['claim_plan']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
