"""Reply latency of a young person's turn through the whole stack, for one or two code trees.

    .venv-service/bin/python bench/turn_latency.py                     # this tree
    .venv-service/bin/python bench/turn_latency.py --before /tmp/old   # and an older checkout
    .venv-service/bin/python bench/turn_latency.py --rounds 3 --conversations 8 --json out.json

Starts the real handoff service, action server and Rasa of each tree on loopback ports with a
throw-away SQLite database, then times `POST /api/v1/conversations/{id}/messages` as the chat page
sends it. Each conversation is the same short script: a home topic, a follow-up, a crisis
message (lexicon and classifier both fire, the action server hands off), and a message while
queued. It also times the action server's write-back on its own (`POST /internal/v1/.../handoff`
with the internal token, as the action server sends it): the cost of the U-turn docs/architecture.md
weighs. With `--before`, the trees take turns round by round on the same machine, so the two
columns are from the same run. The older tree needs its own `.venv-bot`, `.venv-service` and
`models` (symlinks to this tree's are fine: the code comes from the tree, the packages are the
same). Bounded: rounds x conversations x 4 turns per tree, then it stops by itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (
    ("topic", "min mor drikker hver aften og jeg ved ikke hvad jeg skal gøre"),
    ("follow-up", "er det min skyld?"),
    ("crisis", "min far ligger på gulvet og han vågner ikke"),
    ("queued", "hvor længe skal jeg vente?"),
)

WRITE_BACK = "write-back"
LABELS = (*(label for label, _ in SCRIPT), WRITE_BACK)


def _stack_module(root: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"stack_{abs(hash(root))}", root / "scripts" / "stack.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Tree:
    """One code tree's running stack."""

    def __init__(self, name: str, root: Path, ports: tuple[int, int, int], model: Path) -> None:
        self.name = name
        stack_module = _stack_module(root)
        self.tmp = tempfile.TemporaryDirectory(prefix=f"turn-bench-{name}-")
        service_port, rasa_port, actions_port = ports
        self.stack = stack_module.Stack(
            service_port=service_port,
            rasa_port=rasa_port,
            actions_port=actions_port,
            database_url=f"sqlite:///{self.tmp.name}/handoff.db",
            log_dir=Path(self.tmp.name) / "log",
            model=model,
        )
        self.samples: dict[str, list[float]] = {label: [] for label in LABELS}

    def start(self) -> None:
        self.stack.start()
        self.stack.wait_until_ready(timeout=300)

    def conversation(self, client: httpx.Client) -> None:
        base = self.stack.service_url
        created = client.post(f"{base}/api/v1/conversations")
        created.raise_for_status()
        body = created.json()
        headers = {"Authorization": f"Bearer {body['token']}"}
        for label, text in SCRIPT:
            started = time.perf_counter()
            reply = client.post(
                f"{base}/api/v1/conversations/{body['id']}/messages",
                json={"text": text},
                headers=headers,
            )
            elapsed = (time.perf_counter() - started) * 1000
            reply.raise_for_status()
            if not reply.json()["messages"]:
                raise RuntimeError(f"{self.name}: no answer to the {label} message")
            self.samples[label].append(elapsed)
        started = time.perf_counter()
        written = client.post(
            f"{base}/internal/v1/conversations/{body['id']}/handoff",
            json={"reason": "bench", "intents": ["request_human"]},
            headers={"X-Internal-Token": self.stack.internal_token},
        )
        written.raise_for_status()
        self.samples[WRITE_BACK].append((time.perf_counter() - started) * 1000)

    def stop(self) -> None:
        self.stack.stop_all()
        self.tmp.cleanup()


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {"n": len(ordered), "median_ms": statistics.median(ordered), "p95_ms": p95}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=6, help="per tree and round")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    model = _stack_module(ROOT).current_model()
    if not model.exists():
        print(f"no current model ({model.name}); run make train first", file=sys.stderr)
        return 1
    trees = [Tree("after", ROOT, (8710, 8711, 8712), model)]
    if args.before:
        # The older tree may want another model name; any model of the same data answers alike.
        before_model = _stack_module(args.before.resolve()).current_model()
        trees.insert(
            0,
            Tree(
                "before",
                args.before.resolve(),
                (8720, 8721, 8722),
                before_model if before_model.exists() else model,
            ),
        )
    try:
        for tree in trees:
            tree.start()
        with httpx.Client(timeout=30) as client:
            for tree in trees:  # warm-up: the first parse of a fresh model is slow
                tree.conversation(client)
                tree.samples = {label: [] for label in LABELS}
            for _ in range(args.rounds):
                for tree in trees:
                    for _ in range(args.conversations):
                        tree.conversation(client)
    finally:
        for tree in trees:
            tree.stop()

    report: dict[str, Any] = {}
    print("| tree | turn | n | median ms | p95 ms |\n|---|---|---|---|---|")
    for tree in trees:
        every = [v for label, values in tree.samples.items() if label != WRITE_BACK for v in values]
        rows = {label: _summary(values) for label, values in tree.samples.items()}
        rows["all turns"] = _summary(every)
        report[tree.name] = rows
        for label, row in rows.items():
            print(
                f"| {tree.name} | {label} | {row['n']} | {row['median_ms']:.0f} | "
                f"{row['p95_ms']:.0f} |"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
