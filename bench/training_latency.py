"""A young person's reply latency while a model trains on the same machine, and during a switch.

    .venv-service/bin/python bench/training_latency.py                 # defaults below
    .venv-service/bin/python bench/training_latency.py --turns 20 --during 180 --json out.json

Starts the real service, action server and Rasa on loopback ports with the current model and a
throw-away SQLite database, then times `POST /api/v1/conversations/{id}/messages` (the chat
page's call; a topic message and a follow-up, each in a new conversation):

1. `idle`: `--turns` turns with nothing else running;
2. `training`: a real training of bot/config.yml on data/nlu, started the way the trainer's page
   starts it (`POST /api/v1/trainer/training`: scripts/compare_models.py under `nice -n 19`), with
   its registry, reports and status in a temporary folder (never models/ or reports/); turns for
   `--during` seconds while the job is in its `training` step; then the job is cancelled through
   the API (`POST /api/v1/trainer/training/cancel`) and the time that takes is recorded;
3. `switch`: turns sent back to back from a thread while the running Rasa is switched to the
   same model file, as a promotion switches it (bot/model_switch.py: the model loads in a worker
   thread while the old one answers): the longest wait a young person sees while Rasa loads a
   model, and whether any turn failed.

Bounded: idle and switch phases are `--turns` turns; the training phase stops after `--during`
seconds (the training is cancelled, never finished). Prints a Markdown table; docs/trainer.md
holds a run. No message text is logged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.utils.e2e import free_port, stack_module  # noqa: E402

TEXTS = (
    "min mor drikker hver aften og jeg ved ikke hvad jeg skal gøre",
    "er det min skyld?",
)
PASSWORD = "bench-password"  # noqa: S105 - a throw-away stack
# handoff_service/texts_da.yml, fallback_rasa_down: the young person got no answer from the bot.
FALLBACK_START = "Beklager, vores chatbot kan ikke svare lige nu"


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered),
        "p95_ms": p95,
        "max_ms": ordered[-1],
    }


class Young:
    """Young people writing to the bot through the service, one turn at a time."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.failures = 0
        self.fallbacks = 0  # the service's own answer: Rasa did not answer within its timeout

    def turn(self, text: str, conversation: dict[str, Any] | None = None) -> float:
        if conversation is None:
            created = self.client.post("/api/v1/conversations")
            created.raise_for_status()
            conversation = created.json()
        started = time.perf_counter()
        reply = self.client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {conversation['token']}"},
        )
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status_code != 200 or not reply.json().get("messages"):
            self.failures += 1
        elif any(m.get("text", "").startswith(FALLBACK_START) for m in reply.json()["messages"]):
            self.fallbacks += 1
        return elapsed

    def pair(self) -> list[float]:
        created = self.client.post("/api/v1/conversations")
        created.raise_for_status()
        conversation = created.json()
        return [self.turn(text, conversation) for text in TEXTS]


def login(client: httpx.Client) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": "demo-traener", "password": PASSWORD}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def load_average() -> float:
    return round(os.getloadavg()[0], 1)


def training_phase(
    client: httpx.Client, young: Young, seconds: float, report: dict[str, Any]
) -> None:
    """Turns while a real training runs (started as the page starts it), then its cancel."""
    trainer = login(client)
    started = client.post("/api/v1/trainer/training", headers=trainer)
    started.raise_for_status()
    while client.get("/api/v1/trainer/training", headers=trainer).json()["step"] in (
        "starting",
        None,
    ):
        time.sleep(0.5)
    during: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get("/api/v1/trainer/training", headers=trainer).json()
        if status.get("step") != "training":
            break
        during += young.pair()
    report["load_average"]["training"] = load_average()
    report["training"] = summary(during)
    report["fallbacks"]["training"] = young.fallbacks - report["fallbacks"]["idle"]
    begun = time.perf_counter()
    cancelled = client.post("/api/v1/trainer/training/cancel", headers=trainer)
    report["cancel_seconds"] = round(time.perf_counter() - begun, 1)
    report["cancel_state"] = cancelled.json().get("state")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=20, help="turn pairs idle and in a switch")
    parser.add_argument("--during", type=float, default=180, help="seconds of training measured")
    parser.add_argument("--model", type=Path, help="default: the current model")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--switch-only", action="store_true", help="only the switch phase")
    args = parser.parse_args()

    model = args.model or stack_module.current_model()
    if not model.exists():
        models = sorted((ROOT / "models").glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime)
        if not models:
            print("no model; run make train first", file=sys.stderr)
            return 1
        model = models[-1]
    work = Path(tempfile.mkdtemp(prefix="training-bench-"))
    stack = stack_module.Stack(
        service_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        database_url=f"sqlite:///{work / 'handoff.db'}",
        log_dir=work / "log",
        model=model,
        service_env={
            "ENVIRONMENT": "test",
            "DEMO_COUNSELLOR_PASSWORD": PASSWORD,
            "MODEL_REGISTRY_DIR": str(work / "models"),
            "MODEL_REPORTS_DIR": str(work / "reports"),
            "TRAINING_JOBS_DIR": str(work / "jobs"),
            "NLU_DATA_DIR": str(work / "nlu"),
            # One simulated young person writes faster than any real one in the switch phase.
            "MESSAGES_PER_MINUTE": "1000",
            "CONVERSATION_STARTS_PER_MINUTE": "3000",
        },
    )
    report: dict[str, Any] = {"model": model.name, "load_average": {}}
    stack.start()
    try:
        stack.wait_until_ready(timeout=300)
        with httpx.Client(base_url=stack.service_url, timeout=120) as client:
            young = Young(client)
            young.pair()  # warm-up: the first parse of a fresh model is slow

            report["load_average"]["idle"] = load_average()
            idle = [v for _ in range(args.turns) for v in young.pair()]
            report["idle"] = summary(idle)
            report["fallbacks"] = {"idle": young.fallbacks}

            if not args.switch_only:
                training_phase(client, young, args.during, report)
            # A switch, as a promotion makes it, while turns keep coming.
            from handoff_service import model_registry

            os.environ["RASA_JWT_SECRET"] = stack.rasa_jwt_secret
            before_switch = young.fallbacks
            switching: list[float] = []
            done = threading.Event()

            def keep_writing() -> None:
                while not done.is_set():
                    switching.append(young.turn(TEXTS[0], conversation))
                    time.sleep(0.2)  # a fast typist, under the service's rate limits

            conversation = client.post("/api/v1/conversations").json()
            writer = threading.Thread(target=keep_writing)
            writer.start()
            time.sleep(3)
            begun = time.perf_counter()
            model_registry.switch_rasa(stack.rasa_url, model)
            report["switch_seconds"] = round(time.perf_counter() - begun, 1)
            time.sleep(3)
            done.set()
            writer.join()
            report["switch"] = summary(switching)
            report["fallbacks"]["switch"] = young.fallbacks - before_switch
            report["load_average"]["switch"] = load_average()
            report["failed_turns"] = young.failures
    finally:
        stack.stop_all()

    print(f"model {report['model']}; load average {report['load_average']}")
    print(
        "| phase | turns | median ms | p95 ms | max ms | fallback answers |\n"
        "|---|---|---|---|---|---|"
    )
    for phase in ("idle", "training", "switch"):
        row = report.get(phase)
        if row is None:
            continue
        print(
            f"| {phase} | {row['n']} | {row.get('median_ms', 0):.0f} | "
            f"{row.get('p95_ms', 0):.0f} | {row.get('max_ms', 0):.0f} | "
            f"{report['fallbacks'][phase]} |"
        )
    print(
        f"cancel: {report.get('cancel_seconds')} s ({report.get('cancel_state')}); switch: "
        f"{report['switch_seconds']} s; failed turns: {report['failed_turns']}"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
