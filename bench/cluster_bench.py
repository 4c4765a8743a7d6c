"""The cluster of `make run-cluster` under a waiting crowd (issue #18), on loopback.

    .venv-service/bin/python bench/cluster_bench.py                      # 2,000 waiting, 3 claims
    .venv-service/bin/python bench/cluster_bench.py --waiting 200 --replies 10   # a quick look

Starts the whole cluster (scripts/cluster.py: PostgreSQL, Redis, haproxy, 2 service processes,
2 Rasa servers, the action server) on free loopback ports with a database of its own, then:

1. puts WAITING young people in the queue (POST /conversations, then the "talk to a person"
   button, through the balancer) and opens each one's event stream, half directly on process A
   and half on process B;
2. a counsellor logged in on A claims CLAIMS times; for each claim: the time from sending it
   until every open stream (on A and on B) has its new position (a `queue` event with its
   place one lower, or `counsellor_joined` for the one claimed);
3. the bot's reply through the balancer versus directly from one Rasa server: the same
   messages, each to a fresh conversation on both paths, alternating which path goes first
   (REST webhook), and the young person's whole turn through the balancer versus directly on A;
4. the resident memory (VmRSS) of every process with all streams open.

Bounded: WAITING conversations, CLAIMS claims, REPLIES messages per path, and --deadline
seconds for the whole run; then it stops the cluster and drops its database.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
_spec = importlib.util.spec_from_file_location("cluster", ROOT / "scripts" / "cluster.py")
assert _spec is not None and _spec.loader is not None
cluster_module = importlib.util.module_from_spec(_spec)
sys.modules["cluster"] = cluster_module
_spec.loader.exec_module(cluster_module)

PASSWORD = "bench-password"  # noqa: S105 - the throw-away cluster's demo login
MESSAGES = (
    "min mor drikker hver aften og jeg ved ikke hvad jeg skal gøre",
    "er det min skyld?",
    "jeg bliver mobbet i skolen",
    "mine forældre skal skilles",
    "jeg kan ikke sove om natten",
    "hvad kan jeg gøre",
)


def _fallback_texts() -> set[str]:
    """The first line of the service's own answer when Rasa did not answer
    (handoff_service/texts_da.yml), up to its first placeholder: words no bot answer has."""
    import yaml

    texts = yaml.safe_load((ROOT / "handoff_service" / "texts_da.yml").read_text("utf-8"))
    first = texts["fallback_rasa_down"][0]
    return {str(first if isinstance(first, str) else first.get("text", "")).split("{")[0]}


FALLBACKS = _fallback_texts()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the benchmark's deadline passed")
        return left


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


# -- waiting young people ---------------------------------------------------------------------


async def queue_many(url: str, count: int, concurrency: int, deadline: Deadline) -> list[dict]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> dict:
            async with gate:
                created = await client.post("/api/v1/conversations")
                created.raise_for_status()
                body = created.json()
                headers = {"Authorization": f"Bearer {body['token']}"}
                handoff = await client.post(
                    f"/api/v1/conversations/{body['id']}/handoff", headers=headers
                )
                handoff.raise_for_status()
                return body

        return await asyncio.wait_for(
            asyncio.gather(*(one() for _ in range(count))), timeout=deadline.left()
        )


class Stream:
    """One young person's event stream on a raw socket (lighter than an HTTP client per stream,
    so the client's own cost stays small next to the service's)."""

    def __init__(self, port: int, conversation: dict, process: str) -> None:
        self.port = port
        self.id = conversation["id"]
        self.token = conversation["token"]
        self.process = process
        self.position: int | None = None
        self.moved_at: float | None = None
        self.claimed = False
        self.snapshot = asyncio.Event()
        self.changed = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        self.writer.write(
            (
                f"GET /api/v1/conversations/{self.id}/events HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{self.port}\r\nAuthorization: Bearer {self.token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await self.writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        event = None
        while line := await reader.readline():
            text = line.decode().rstrip("\r\n")
            if text.startswith("event: "):
                event = text.removeprefix("event: ")
            elif text.startswith("data: ") and event:
                self._on(event, json.loads(text.removeprefix("data: ")))

    def _on(self, event: str, data: dict[str, Any]) -> None:
        if event == "status" and not self.snapshot.is_set():
            self.position = (data.get("queue") or {}).get("position")
            self.snapshot.set()
        elif event == "queue":
            position = data["queue"]["position"]
            if self.position is not None and position < self.position and not self.changed.is_set():
                self.moved_at = time.monotonic()
                self.changed.set()
            self.position = position
        elif event == "counsellor_joined" and not self.changed.is_set():
            self.claimed = True
            self.moved_at = time.monotonic()
            self.changed.set()

    def rearm(self) -> None:
        self.changed = asyncio.Event()
        self.moved_at = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def claims(cluster, conversations: list[dict], rounds: int, deadline: Deadline) -> dict:
    a_port, b_port = cluster.ports.service_a, cluster.ports.service_b
    streams = [
        Stream(a_port if i % 2 == 0 else b_port, c, "a" if i % 2 == 0 else "b")
        for i, c in enumerate(conversations)
    ]
    tasks = []
    opened_at = time.monotonic()
    for i, stream in enumerate(streams):
        tasks.append(asyncio.create_task(stream.run()))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # pages open over a moment, not in one syscall burst
    await asyncio.wait_for(
        asyncio.gather(*(s.snapshot.wait() for s in streams)), timeout=deadline.left()
    )
    failed = [t for t in tasks if t.done() and t.exception()]
    if failed:
        raise RuntimeError(f"{len(failed)} streams failed: {failed[0].exception()!r}")
    open_seconds = time.monotonic() - opened_at
    rss = process_memory(cluster)
    results = []
    async with httpx.AsyncClient(base_url=cluster.service_url("a"), timeout=60) as on_a:
        login = await on_a.post(
            "/api/v1/auth/login", json={"username": "demo", "password": PASSWORD}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for _ in range(rounds):
            waiting = [s for s in streams if not s.claimed]
            for stream in waiting:
                stream.rearm()
            await asyncio.sleep(1)
            sent_at = time.monotonic()
            claim = await on_a.post("/api/v1/queue/claim", headers=headers)
            claim.raise_for_status()
            claim_ms = (time.monotonic() - sent_at) * 1000
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(s.changed.wait() for s in waiting)),
                    timeout=min(30, deadline.left()),
                )
            except TimeoutError:
                pass
            moved = [s for s in waiting if s.moved_at is not None]
            by_process = {
                name: [s.moved_at - sent_at for s in moved if s.process == name]
                for name in ("a", "b")
            }
            results.append(
                {
                    "streams": len(waiting),
                    "told": len(moved),
                    "claim_ms": round(claim_ms, 1),
                    "all_told_s": round(max(s.moved_at for s in moved) - sent_at, 3)
                    if len(moved) == len(waiting)
                    else None,
                    **{
                        f"{name}_max_s": round(max(times), 3) if times else None
                        for name, times in by_process.items()
                    },
                    **{
                        f"{name}_median_s": round(statistics.median(times), 3) if times else None
                        for name, times in by_process.items()
                    },
                }
            )
    for stream in streams:
        stream.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"open_seconds": round(open_seconds, 1), "rounds": results, "rss_mib": rss}


# -- bot replies --------------------------------------------------------------------------------


def rasa_replies(cluster, count: int, deadline: Deadline) -> dict[str, list[float]]:
    """The same message to a fresh conversation through the balancer and directly (REST
    webhook), after the greeting the service sends first."""
    paths = {
        "balancer": cluster.rasa_url,
        "direct": None,  # alternates between Rasa 1 and Rasa 2
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    with httpx.Client(timeout=60) as client:

        def send(url: str, sender: str, text: str) -> float:
            started = time.monotonic()
            response = client.post(
                f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            response.raise_for_status()
            return (time.monotonic() - started) * 1000

        # Unmeasured: each Rasa's first turns load what the model needs lazily.
        for name in ("rasa1", "rasa2"):
            for text in MESSAGES[:3]:
                send(cluster.direct_rasa_url(name), f"warm-{uuid.uuid4().hex}", text)
        for i in range(count):
            deadline.left()
            text = MESSAGES[i % len(MESSAGES)]
            order = list(paths) if i % 2 == 0 else list(reversed(paths))
            for name in order:
                url = paths[name] or cluster.direct_rasa_url("rasa1" if i % 4 < 2 else "rasa2")
                # As the service does: the greeting first (unmeasured), then the message.
                sender = f"bench-{uuid.uuid4().hex}"
                send(url, sender, "/greet")
                times[name].append(send(url, sender, text))
    return times


def young_turns(cluster, count: int, deadline: Deadline) -> dict[str, list[float]]:
    """The young person's whole turn (service, Rasa, actions) through haproxy or directly on A."""
    paths = {"balancer": cluster.url, "direct": cluster.service_url("a")}
    times: dict[str, list[float]] = {name: [] for name in paths}
    # A turn Rasa did not answer gets the service's fallback and a queue place: counted, so a
    # fast fallback is never mistaken for a fast bot.
    times["fallbacks"] = []
    with httpx.Client(timeout=60) as client:
        for i in range(count):
            deadline.left()
            text = MESSAGES[i % len(MESSAGES)]
            order = list(paths) if i % 2 == 0 else list(reversed(paths))
            for name in order:
                created = client.post(f"{paths[name]}/api/v1/conversations")
                created.raise_for_status()
                body = created.json()
                started = time.monotonic()
                response = client.post(
                    f"{paths[name]}/api/v1/conversations/{body['id']}/messages",
                    json={"text": text},
                    headers={"Authorization": f"Bearer {body['token']}"},
                )
                response.raise_for_status()
                times[name].append((time.monotonic() - started) * 1000)
                messages = response.json()["messages"]
                if any(m["text"].startswith(f) for m in messages for f in FALLBACKS):
                    times["fallbacks"].append(1.0)
    return times


def summary(times: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: {
            "n": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 95), 1),
        }
        for name, values in times.items()
        if name != "fallbacks"
    }
    if "fallbacks" in times:
        out["fallbacks"] = len(times["fallbacks"])
    out["ratio_p50"] = round(out["balancer"]["p50_ms"] / out["direct"]["p50_ms"], 2)
    out["ratio_p95"] = round(out["balancer"]["p95_ms"] / out["direct"]["p95_ms"], 2)
    return out


# -- memory -------------------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def process_memory(cluster) -> dict[str, float]:
    """VmRSS in MiB of every process: each member (with its children), haproxy, Redis, and
    PostgreSQL's server processes of the cluster's database (shared buffers counted in each)."""
    rss: dict[str, float] = {}
    for name, process in cluster.all_processes().items():
        pids = [process.pid, *_children(process.pid)]
        rss[name] = round(sum(_rss_kib(p) for p in pids) / 1024, 1)
    pid_file = ROOT / "var" / "redis-cluster" / "redis.pid"
    if pid_file.exists():
        rss["redis"] = round(_rss_kib(int(pid_file.read_text())) / 1024, 1)
    import psycopg

    conninfo = cluster.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        backends = [
            pid
            for (pid,) in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchall()
        ]
    rss["postgresql_backends"] = round(sum(_rss_kib(p) for p in backends) / 1024, 1)
    rss["postgresql_backend_count"] = len(backends)
    rss["bench_client"] = round(_rss_kib(os.getpid()) / 1024, 1)
    return rss


# -- the run ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=3)
    parser.add_argument("--replies", type=int, default=40, help="messages per path")
    parser.add_argument("--concurrency", type=int, default=16, help="for queueing")
    parser.add_argument("--deadline", type=float, default=1200, help="seconds for the whole run")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "bench" / "cluster.json")
    args = parser.parse_args()
    deadline = Deadline(args.deadline)
    model = cluster_module.current_model()
    if not model.exists():
        print(f"no trained model ({model.name}); run make train", file=sys.stderr)
        return 1
    cluster = cluster_module.Cluster(
        work_dir=Path(tempfile.mkdtemp(prefix="cluster-bench-")),
        ports=cluster_module.Ports.free(),
        postgres_url=os.environ.get("TEST_DATABASE_URL") or None,
        model=model,
        service_env={
            "ENVIRONMENT": "test",
            "DEMO_COUNSELLOR_PASSWORD": PASSWORD,
            "CONVERSATION_STARTS_PER_MINUTE": "100000",
            # Every turn and greeting waits for the real Rasa: no quick fallback, no breaker.
            "RASA_TIMEOUT_SECONDS": "30",
            "RASA_QUICK_TIMEOUT_SECONDS": "30",
            "RASA_BREAKER_FAILURES": "100000",
        },
    )
    result: dict[str, Any] = {"load_average_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        started = time.monotonic()
        cluster.start(timeout=min(400, deadline.left()))
        result["start_seconds"] = round(time.monotonic() - started, 1)
        print(f"cluster up in {result['start_seconds']} s", flush=True)

        started = time.monotonic()
        conversations = asyncio.run(
            queue_many(cluster.url, args.waiting, args.concurrency, deadline)
        )
        result["queue_seconds"] = round(time.monotonic() - started, 1)
        print(f"{len(conversations)} waiting in {result['queue_seconds']} s", flush=True)

        result["claims"] = asyncio.run(claims(cluster, conversations, args.claims, deadline))
        for round_ in result["claims"]["rounds"]:
            print(f"claim: {round_}", flush=True)

        result["rasa_reply"] = summary(rasa_replies(cluster, args.replies, deadline))
        print(f"rasa reply: {result['rasa_reply']}", flush=True)
        result["young_turn"] = summary(young_turns(cluster, args.replies, deadline))
        print(f"young turn: {result['young_turn']}", flush=True)
        result["rss_mib_after"] = process_memory(cluster)
    finally:
        result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        cluster.stop_all()
    result["waiting"] = args.waiting
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
