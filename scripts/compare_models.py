"""Trains a candidate model and compares it with the current one on the independent test files.

Runs in the bot environment (Rasa 3.6); `make compare-models` and the trainer's page (through
handoff_service/model_registry.py) start it with `nice -n 19`:

    .venv-bot/bin/python scripts/compare_models.py                 # train, score both, report
    .venv-bot/bin/python scripts/compare_models.py --candidate M   # score an existing model

1. trains a full model (NLU and dialogue) from the config, domain and data into
   <registry>/candidates/candidate-<UTC time>-<inputs fingerprint>.tar.gz (written under a
   temporary name first: a cancelled training leaves no half model);
2. parses every example of every independent test file (never trained on; the files
   scripts/nlu_report.py scores, `INDEPENDENT`) with the candidate and with the current model
   (the promoted one, models/active.json, else the model `make train` makes for the inputs);
   a nlu_fallback is scored as the intent under it, as `rasa test nlu` does;
3. scores both per file and decides with the gate (triage_core/model_gate.py);
4. writes <reports>/model_comparison.md, model_comparison.json and the PNG images beside them.

One run at a time: the run holds an exclusive lock on <jobs>/training.lock (the service passes
the lock it took as --lock-fd). Progress goes to <jobs>/status.json (step, file, elapsed), which
the trainer's page polls. No message text is printed or logged; the report names intents only.

Everything has an environment default, so the service and the tests can point a run at a small
fixture: COMPARE_CONFIG, COMPARE_DOMAIN, COMPARE_DATA and COMPARE_TESTS (os.pathsep-separated),
MODEL_REGISTRY_DIR, MODEL_REPORTS_DIR, TRAINING_JOBS_DIR.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the shared package sits at the root
    sys.path.insert(0, str(ROOT))

from triage_core import model_gate  # noqa: E402
from triage_core.taxonomy import FALLBACK_INTENT  # noqa: E402

BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
CACHE = ROOT / "results" / "model_compare"
EXIT_BUSY = 75  # another training holds the lock (EX_TEMPFAIL)


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _env_paths(name: str, default: list[Path]) -> list[Path]:
    value = os.environ.get(name)
    return [Path(p) for p in value.split(os.pathsep) if p] if value else default


def default_tests() -> list[Path]:
    """Every independent test file that exists, in scripts/nlu_report.py's order."""
    report = _module("nlu_report", ROOT / "scripts" / "nlu_report.py")
    return list(report.independent_files().values())


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 - py3.10


class Status:
    """The job's status file: merged updates, each written atomically."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.started = time.monotonic()

    def read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def update(self, **fields: Any) -> None:
        data = self.read()
        data.update(fields, updated_at=now_iso(), elapsed_seconds=self.elapsed())
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(temporary, self.path)

    def step(self, step: str, **fields: Any) -> None:
        print(f"[compare-models] {step} {fields or ''}".rstrip(), flush=True)
        self.update(step=step, **fields)

    def elapsed(self) -> int:
        return round(time.monotonic() - self.started)


def inputs_fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def current_model(registry: Path) -> Path | None:
    """The model the running Rasa uses: the promoted one (models/active.json); before any
    promotion, the model `make train` made for the current inputs, else the newest
    models/model-*.tar.gz (the inputs changed since, e.g. by `make export-labels`)."""
    active = model_gate.read_active(registry)
    if active is not None:
        return active
    if registry.resolve() == (ROOT / "models").resolve():
        stack = _module("stack", ROOT / "scripts" / "stack.py")
        model = stack.current_model(ROOT)
        if model.exists():
            return model
    trained = sorted(registry.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return trained[-1] if trained else None


# --------------------------------------------------------------------------- #
# Training and prediction
# --------------------------------------------------------------------------- #


class Training:
    """The `rasa train` child, so that a cancel (SIGTERM) can stop it too."""

    process: subprocess.Popen[bytes] | None = None


def train_candidate(
    config: Path, domain: Path, data: list[Path], registry: Path, log: Path
) -> tuple[Path, float]:
    fingerprint = inputs_fingerprint([config, domain, *data])
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")  # noqa: UP017 - py3.10
    name = f"candidate-{stamp}-{fingerprint}"
    target_dir = registry / "candidates"
    target_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target_dir, prefix=".training-") as scratch:
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            TF_CPP_MIN_LOG_LEVEL="2",
            RASA_TELEMETRY_ENABLED="false",
        )
        with log.open("ab") as handle:
            Training.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [
                    str(BOT_PY),
                    "-m",
                    "rasa",
                    "train",
                    "--config",
                    str(config),
                    "--domain",
                    str(domain),
                    "--data",
                    *map(str, data),
                    "--out",
                    scratch,
                    "--fixed-model-name",
                    name,
                    "--quiet",
                ],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            code = Training.process.wait()
            Training.process = None
        if code != 0:
            raise RuntimeError(f"rasa train exited with {code}; see {log}")
        trained = Path(scratch) / f"{name}.tar.gz"
        final = target_dir / trained.name
        shutil.move(str(trained), final)
    return final, time.monotonic() - started


def load_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def _model_key(model: Path, tests: list[Path]) -> str:
    digest = hashlib.sha256()
    stat = model.stat()
    digest.update(f"{model.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for test in tests:
        digest.update(test.name.encode())
        digest.update(test.read_bytes())
    return digest.hexdigest()[:16]


def predict(model: Path, tests: list[Path], status: Status, which: str) -> dict[str, Any]:
    """Per file: gold and predicted intents (fallback undone), as `rasa test nlu` scores."""
    cache = CACHE / f"{_model_key(model, tests)}.json"
    if cache.exists():
        return json.loads(cache.read_text(encoding="utf-8"))
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa's debug log names the parsed text: warnings only, never message text in a log.
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    status.step(f"loading_{which}", file=None)
    agent = Agent.load(str(model))
    result: dict[str, Any] = {}
    for number, test in enumerate(tests, start=1):
        status.step(f"evaluating_{which}", file=test.stem, file_number=number, files=len(tests))
        gold: list[str] = []
        predicted: list[str] = []
        for text, intent in load_examples(test):
            parsed = asyncio.run(agent.parse_message(text))
            gold.append(intent)
            predicted.append(scored_intent(parsed))
        result[test.stem] = {"gold": gold, "predicted": predicted}
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result), encoding="utf-8")
    return result


def scored_intent(parsed: dict[str, Any]) -> str:
    """The pipeline's intent, a nlu_fallback replaced by the best real intent under it."""
    name = str((parsed.get("intent") or {}).get("name") or FALLBACK_INTENT)
    if name != FALLBACK_INTENT:
        return name
    for ranked in parsed.get("intent_ranking") or []:
        if ranked.get("name") and ranked["name"] != FALLBACK_INTENT:
            return str(ranked["name"])
    return name


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def pooled(predictions: dict[str, Any]) -> tuple[list[str], list[str]]:
    gold = [g for file in predictions.values() for g in file["gold"]]
    predicted = [p for file in predictions.values() for p in file["predicted"]]
    return gold, predicted


def top_confusions(gold: list[str], predicted: list[str], limit: int = 40) -> list[dict[str, Any]]:
    pairs: dict[tuple[str, str], int] = {}
    for g, p in zip(gold, predicted, strict=True):
        if g != p:
            pairs[(g, p)] = pairs.get((g, p), 0) + 1
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"gold": g, "predicted": p, "count": n} for (g, p), n in ranked]


def _plots(result: dict[str, Any], reports: Path, pairs: dict[str, Any]) -> dict[str, str]:
    import warnings

    import matplotlib

    warnings.filterwarnings("ignore", module="matplotlib")
    warnings.filterwarnings("ignore", message=".*deprecated - use.*")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images: dict[str, str] = {}
    models = [m for m in ("current", "candidate") if result["models"].get(m)]

    # Per-intent F1 (all files pooled), both models, with the delta.
    f1 = {m: result["pooled"][m]["per_intent_f1"] for m in models}
    intents = sorted(set().union(*[set(v) for v in f1.values()]))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(intents) + 1.5))
    height = 0.4
    for offset, model in enumerate(models):
        ax.barh(
            [i + offset * height for i in range(len(intents))],
            [f1[model].get(intent, 0.0) for intent in intents],
            height=height,
            label=model,
            color=("#8a8f98", "#2a6fdb")[offset],
        )
    if len(models) == 2:
        for i, intent in enumerate(intents):
            delta = f1["candidate"].get(intent, 0.0) - f1["current"].get(intent, 0.0)
            ax.text(1.01, i + height / 2, f"{delta:+.2f}", va="center", fontsize=8)
    ax.set_yticks([i + height / 2 for i in range(len(intents))], intents, fontsize=8)
    ax.set_xlim(0, 1.12)
    ax.invert_yaxis()
    ax.set_xlabel("F1 (all independent files pooled; right: candidate − current)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    images["per_intent_f1"] = "model_comparison_f1.png"
    fig.savefig(reports / images["per_intent_f1"], dpi=110)
    plt.close(fig)

    # Confusion matrices (pooled), rows normalised.
    for model in models:
        labels, matrix = model_gate.confusion(*pairs[model])
        fig, ax = plt.subplots(figsize=(9, 8))
        shares = [[v / (sum(row) or 1) for v in row] for row in matrix]
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    colour = "white" if shares[i][j] > 0.5 else "black"
                    ax.text(j, i, str(value), ha="center", va="center", fontsize=6, color=colour)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(f"{model}: {result['models'][model]['name']}", fontsize=9)
        fig.tight_layout()
        images[f"confusion_{model}"] = f"model_comparison_confusion_{model}.png"
        fig.savefig(reports / images[f"confusion_{model}"], dpi=110)
        plt.close(fig)

    # Risk figures per file: critical, high-or-critical recall and the false-alarm rate.
    files = list(result["files"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 0.3 * len(files) + 2), sharey=True)
    for ax, key, title in zip(
        axes,
        ("critical_recall", "hoc_recall", "false_alarm_rate"),
        ("critical recall", "high-or-critical recall", "critical false alarms (share of normal)"),
        strict=True,
    ):
        for offset, model in enumerate(models):
            values = [result["files"][f][model].get(key) or 0.0 for f in files]
            ax.barh(
                [i + offset * height for i in range(len(files))],
                values,
                height=height,
                label=model,
                color=("#8a8f98", "#2a6fdb")[offset],
            )
        ax.set_title(title, fontsize=9)
        ax.set_xlim(0, 1 if key != "false_alarm_rate" else 0.2)
    axes[0].set_yticks([i + height / 2 for i in range(len(files))], files, fontsize=8)
    axes[0].invert_yaxis()
    axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    fig.tight_layout()
    images["risk"] = "model_comparison_risk.png"
    fig.savefig(reports / images["risk"], dpi=110)
    plt.close(fig)
    return images


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _f3(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _delta(after: float | None, before: float | None) -> str:
    return "–" if after is None or before is None else f"{after - before:+.3f}"


def write_markdown(result: dict[str, Any], path: Path) -> None:
    decision = result["decision"]
    current = result["models"].get("current")
    candidate = result["models"]["candidate"]
    lines = [
        "# Model comparison",
        "",
        f"Written {result['created_at']} by `make compare-models` (scripts/compare_models.py).",
        "",
        f"- candidate: `{candidate['name']}` (trained in {result.get('train_seconds') or 0:.0f} s"
        f" from `{result['inputs']['config']}`, inputs {result['inputs']['fingerprint']})",
        f"- current: `{current['name']}`" if current else "- current: none (no model yet)",
        f"- test files (independent, never trained on): {', '.join(result['files'])}",
        "",
        "## Decision",
        "",
    ]
    if decision["promotable"]:
        lines.append("**Promotion allowed.** The candidate passes the gate.")
        lines += [f"- {note}" for note in decision.get("notes", [])]
    else:
        lines.append("**Promotion refused.** Why:")
        lines.append("")
        lines += [f"- {reason}" for reason in decision["reasons"]]
    lines += [
        "",
        "The gate (triage_core/model_gate.py): refused when the candidate's critical recall is "
        "lower than the current model's on any file, or its macro-F1 (mean over the files) is "
        f"more than {decision['max_macro_f1_drop']:.2f} lower. Macro-F1 "
        f"{decision['candidate_macro_f1']:.3f} (candidate)"
        + (f" vs {decision['current_macro_f1']:.3f} (current)." if current else "."),
        "",
        "## Per file",
        "",
        "| file | n | macro-F1 current → candidate (Δ) | critical recall | "
        "high-or-critical recall | critical false alarms |",
        "|---|---|---|---|---|---|",
    ]
    for name, scores in result["files"].items():
        cand = scores["candidate"]
        cur = scores.get("current") or {}

        def both(
            key: str, pct: bool = True, cur: dict[str, Any] = cur, cand: dict[str, Any] = cand
        ) -> str:
            fmt = _pct if pct else _f3
            return f"{fmt(cur.get(key))} → {fmt(cand.get(key))}" if cur else fmt(cand.get(key))

        alarms = (
            f"{cur.get('false_alarms')} → {cand['false_alarms']} of {cand['normal_n']}"
            if cur
            else f"{cand['false_alarms']} of {cand['normal_n']}"
        )
        lines.append(
            f"| {name} | {cand['n']} | {both('macro_f1', pct=False)} "
            f"({_delta(cand['macro_f1'], cur.get('macro_f1'))}) | {both('critical_recall')} | "
            f"{both('hoc_recall')} | {alarms} |"
        )
    lines += [
        "",
        "![critical and high-or-critical recall, false alarms](model_comparison_risk.png)",
        "",
        "## Per intent (all files pooled)",
        "",
        "| intent | F1 current | F1 candidate | Δ |",
        "|---|---|---|---|",
    ]
    cand_f1 = result["pooled"]["candidate"]["per_intent_f1"]
    cur_f1 = (result["pooled"].get("current") or {}).get("per_intent_f1", {})
    for intent in sorted(cand_f1):
        before = cur_f1.get(intent)
        lines.append(
            f"| {intent} | {'–' if before is None else f'{before:.3f}'} | "
            f"{cand_f1[intent]:.3f} | {_delta(cand_f1[intent], before)} |"
        )
    lines += ["", "![per-intent F1](model_comparison_f1.png)", "", "## Confusion matrices", ""]
    if current:
        lines += ["Current:", "", "![current](model_comparison_confusion_current.png)", ""]
    lines += ["Candidate:", "", "![candidate](model_comparison_confusion_candidate.png)", ""]
    lines += [
        "Machine-readable: model_comparison.json (the decision, every figure, the top confusions).",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def compare(
    candidate_model: Path,
    current: Path | None,
    tests: list[Path],
    status: Status,
) -> dict[str, Any]:
    predictions = {"candidate": predict(candidate_model, tests, status, "candidate")}
    if current is not None:
        predictions["current"] = predict(current, tests, status, "current")
    files: dict[str, dict[str, Any]] = {}
    for test in tests:
        files[test.stem] = {"path": str(test)}
        for model, by_file in predictions.items():
            row = by_file[test.stem]
            files[test.stem][model] = model_gate.score(row["gold"], row["predicted"])
    pairs = {model: pooled(by_file) for model, by_file in predictions.items()}
    pooled_scores = {model: model_gate.score(*pair) for model, pair in pairs.items()}
    if current is None:
        decision = model_gate.GateDecision(promotable=True).as_dict()
        decision["notes"] = ["there is no current model: the candidate would be the first"]
        decision["candidate_macro_f1"] = model_gate.mean_macro_f1(
            {n: f["candidate"] for n, f in files.items()}
        )
    else:
        decision = model_gate.gate(
            {n: f["current"] for n, f in files.items()},
            {n: f["candidate"] for n, f in files.items()},
        ).as_dict()
    return {
        "files": files,
        "pooled": pooled_scores,
        "decision": decision,
        "confusions": {model: top_confusions(*pair) for model, pair in pairs.items()},
        "_pairs": pairs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ.get("COMPARE_CONFIG", ROOT / "bot" / "config.yml")),
    )
    parser.add_argument(
        "--domain",
        type=Path,
        default=Path(os.environ.get("COMPARE_DOMAIN", ROOT / "bot" / "domain.yml")),
    )
    parser.add_argument("--data", type=Path, nargs="+", default=None)
    parser.add_argument("--tests", type=Path, nargs="+", default=None)
    parser.add_argument(
        "--registry", type=Path, default=Path(os.environ.get("MODEL_REGISTRY_DIR", ROOT / "models"))
    )
    parser.add_argument(
        "--reports", type=Path, default=Path(os.environ.get("MODEL_REPORTS_DIR", ROOT / "reports"))
    )
    parser.add_argument(
        "--jobs",
        type=Path,
        default=Path(os.environ.get("TRAINING_JOBS_DIR", ROOT / "var" / "training")),
    )
    parser.add_argument("--current", type=Path, default=None, help="the model to compare with")
    parser.add_argument(
        "--candidate", type=Path, default=None, help="score this model, no training"
    )
    parser.add_argument("--lock-fd", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    data = args.data or _env_paths(
        "COMPARE_DATA",
        [ROOT / d for d in ("data/nlu", "data/rules", "data/stories") if (ROOT / d).exists()],
    )
    data = [d for d in data if d.exists()]
    tests = args.tests or _env_paths("COMPARE_TESTS", []) or default_tests()
    args.jobs.mkdir(parents=True, exist_ok=True)
    if args.lock_fd is not None:
        lock = os.fdopen(args.lock_fd, "w")
    else:
        lock = (args.jobs / "training.lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("another training is running (see the trainer's page)", file=sys.stderr)
            return EXIT_BUSY
    status = Status(args.jobs / "status.json")
    if args.lock_fd is None:  # started by hand: the status is ours to start
        status.update(
            state="running", pid=os.getpid(), started_at=now_iso(), started_by="make", step=None
        )

    def cancelled(_signum: int, _frame: object) -> None:
        if Training.process is not None:
            with contextlib.suppress(ProcessLookupError):
                Training.process.terminate()
        status.update(state="cancelled", finished_at=now_iso())
        os._exit(143)

    signal.signal(signal.SIGTERM, cancelled)
    try:
        log = args.jobs / "training.log"
        registry = args.registry
        current = args.current or current_model(registry)
        if args.candidate is None:
            status.step("training")
            candidate, train_seconds = train_candidate(
                args.config, args.domain, data, registry, log
            )
        else:
            candidate, train_seconds = args.candidate, None
        outcome = compare(candidate, current, tests, status)
        status.step("writing_report")
        pairs = outcome.pop("_pairs")
        result = {
            "created_at": now_iso(),
            "models": {
                "candidate": {"name": candidate.name, "file": _relative(candidate, registry)},
                "current": (
                    {"name": current.name, "file": _relative(current, registry)}
                    if current
                    else None
                ),
            },
            "inputs": {
                "config": _relative(args.config, ROOT),
                "domain": _relative(args.domain, ROOT),
                "data": [_relative(d, ROOT) for d in data],
                "fingerprint": inputs_fingerprint([args.config, args.domain, *data]),
            },
            "train_seconds": train_seconds,
            **outcome,
        }
        args.reports.mkdir(parents=True, exist_ok=True)
        result["images"] = _plots(result, args.reports, pairs)
        write_markdown(result, args.reports / "model_comparison.md")
        temporary = args.reports / ".model_comparison.json.tmp"
        temporary.write_text(json.dumps(result, indent=1), encoding="utf-8")
        os.replace(temporary, args.reports / "model_comparison.json")
        decision = result["decision"]
        status.update(
            state="succeeded",
            step="done",
            finished_at=now_iso(),
            candidate=candidate.name,
            promotable=decision["promotable"],
            reasons=decision["reasons"],
        )
        verdict = "promotion allowed" if decision["promotable"] else "promotion refused"
        print(f"[compare-models] {verdict}: {args.reports / 'model_comparison.md'}", flush=True)
        for reason in decision["reasons"]:
            print(f"  - {reason}", flush=True)
        return 0
    except Exception as error:  # noqa: BLE001 - the status must say it failed
        status.update(state="failed", finished_at=now_iso(), error=type(error).__name__)
        raise
    finally:
        lock.close()


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


if __name__ == "__main__":
    sys.exit(main())
