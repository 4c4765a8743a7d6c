"""Measures a burst of simultaneous young people with and without the admission gate.

    .venv-service/bin/python scripts/measure_burst.py            # 200 requests, gate off and on
    .venv-service/bin/python scripts/measure_burst.py --burst 100 --json out.json

Runs the service under uvicorn in this process on loopback with a throw-away SQLite database,
creates 20 conversations, then sends `--burst` simultaneous GET /api/v1/conversations/{id} (what
a reconnecting chat page calls) and one GET /healthz 50 ms into the burst. Reports per setting:
answered 2xx, 5xx, timeouts (40 s), median and slowest reply, /healthz time. Bounded: two
bursts, at most about 90 s; stops by itself. Figures go to docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handoff_service.config import Settings  # noqa: E402
from handoff_service.main import create_app  # noqa: E402

TIMEOUT = 40.0


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


async def _burst(base: str, conversations: list[dict], size: int) -> dict:
    limits = httpx.Limits(max_connections=size + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT, limits=limits) as client:

        async def read(n: int) -> tuple[str, float]:
            conversation = conversations[n % len(conversations)]
            started = time.perf_counter()
            try:
                response = await client.get(
                    f"/api/v1/conversations/{conversation['id']}",
                    headers={"Authorization": f"Bearer {conversation['token']}"},
                )
                outcome = str(response.status_code)
            except httpx.TimeoutException:
                outcome = "timeout"
            return outcome, time.perf_counter() - started

        async def health() -> float:
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            try:
                await client.get("/healthz")
            except httpx.TimeoutException:
                return TIMEOUT
            return time.perf_counter() - started

        results = await asyncio.gather(*(read(n) for n in range(size)), health())
    replies = results[:-1]
    seconds = [s for _, s in replies]
    outcomes = [o for o, _ in replies]
    return {
        "answered_2xx": sum(o.startswith("2") for o in outcomes),
        "5xx": sum(o.startswith("5") for o in outcomes),
        "timeouts": outcomes.count("timeout"),
        "median_s": round(statistics.median(seconds), 3),
        "slowest_s": round(max(seconds), 3),
        "healthz_s": round(results[-1], 3),
    }


def measure(gate: bool, size: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="burst-") as tmp:
        settings = Settings(
            environment="test",
            database_url=f"sqlite:///{tmp}/handoff.db",
            rasa_url="http://127.0.0.1:9",
            background_jobs=False,
            admission_limit=20 if gate else 0,
        )
        server, thread, base = _serve(settings)
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                conversations = [client.post("/api/v1/conversations").json() for _ in range(20)]
            return asyncio.run(_burst(base, conversations, size))
        finally:
            server.should_exit = True
            thread.join(timeout=45)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {
        "gate off": measure(False, args.burst),
        "gate on (20)": measure(True, args.burst),
    }
    print(
        f"| {args.burst} simultaneous | 2xx | 5xx | timeouts | median s | slowest s | /healthz s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, row in report.items():
        print(
            f"| {name} | {row['answered_2xx']} | {row['5xx']} | {row['timeouts']} | "
            f"{row['median_s']} | {row['slowest_s']} | {row['healthz_s']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
