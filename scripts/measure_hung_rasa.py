"""Time to the critical fallback with Rasa hung (accepts, never answers) or unreachable.

Runs the service in-process (FastAPI's TestClient, SQLite in a temporary folder) with the
default Rasa timeout and circuit breaker, Rasa pointed at a TCP server on 127.0.0.1 that accepts
connections and never answers. Each run starts a conversation and sends a crisis message; the
figures go into docs/reliability.md.

    .venv-service/bin/python scripts/measure_hung_rasa.py [--runs 20] [--unreachable]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from handoff_service.config import Settings  # noqa: E402
from handoff_service.main import create_app  # noqa: E402
from tests.utils.hung_server import hung_server  # noqa: E402

CRISIS = "jeg vil ikke leve mere"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--unreachable", action="store_true", help="a closed port, not a hang")
    args = parser.parse_args()
    with hung_server(backlog=256) as hung_port, tempfile.TemporaryDirectory() as folder:
        port = closed_port() if args.unreachable else hung_port
        settings = Settings(
            environment="test",
            database_url=f"sqlite:///{folder}/handoff.db",
            rasa_url=f"http://127.0.0.1:{port}",
            secret_key="measure-" + "m" * 32,
            internal_api_token="i" * 40,
            background_jobs=False,
        )
        greetings, crises = [], []
        with TestClient(create_app(settings)) as client:
            for _ in range(args.runs):
                started = time.perf_counter()
                created = client.post("/api/v1/conversations").json()
                greetings.append(time.perf_counter() - started)
                headers = {"Authorization": f"Bearer {created['token']}"}
                started = time.perf_counter()
                turn = client.post(
                    f"/api/v1/conversations/{created['id']}/messages",
                    json={"text": CRISIS},
                    headers=headers,
                ).json()
                crises.append(time.perf_counter() - started)
                assert "112" in turn["messages"][0]["text"] and turn["status"] == "queued"
            state = client.app.state.rasa.breaker.state
    kind = "unreachable (closed port)" if args.unreachable else "hung (accepts, never answers)"
    print(
        f"Rasa {kind}; timeout {settings.rasa_timeout_seconds:g} s, breaker opens after "
        f"{settings.rasa_breaker_failures} failures for {settings.rasa_breaker_seconds:g} s"
    )
    print(f"runs: {args.runs}; breaker at the end: {state}")
    for name, values in (("greeting", greetings), ("crisis message", crises)):
        print(
            f"{name:15} first {values[0]:.3f} s · max {max(values):.3f} s · "
            f"median {statistics.median(values):.3f} s · "
            f"median after the first two {statistics.median(values[2:] or values):.3f} s"
        )
    print(
        "per run (greeting, crisis):",
        ", ".join(f"{g:.2f}/{c:.2f}" for g, c in zip(greetings, crises, strict=True)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
