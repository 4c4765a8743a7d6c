"""Scores a model's predictions and decides whether a candidate model may replace the current one.

Pure Python, no Rasa and no scikit-learn: `scripts/compare_models.py` (bot environment) scores
both models with it, and the handoff service (service environment) reads the decision and the
active-model pointer with it. docs/trainer.md describes the gate.

Scoring follows scripts/nlu_report.py and `rasa test nlu`: a ``nlu_fallback`` prediction is
scored as the intent under it (the caller passes that intent). Figures per test file:

* macro-F1 over the intents of the file (the gold labels);
* critical recall: share of critical messages (``CRITICAL_INTENTS``) predicted as any critical
  intent (the group counts, not the exact intent);
* high-or-critical recall: the same with the high intents added on both sides;
* false alarms: messages of a normal-risk intent predicted as critical (count and share).

The gate (``gate``) refuses a candidate when, on any file, its critical recall is lower than the
current model's, or when its macro-F1 (the mean over the files) is more than 0.01 lower.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from triage_core.risk import CRITICAL_INTENTS, HIGH_INTENTS

HIGH_OR_CRITICAL: frozenset[str] = CRITICAL_INTENTS | HIGH_INTENTS
#: The largest drop of the mean macro-F1 the gate lets through.
MAX_MACRO_F1_DROP = 0.01
#: Differences smaller than this are rounding, not a drop (scores are shares of small counts).
EPSILON = 1e-9
#: The file beside the models that names the model the running Rasa should use.
ACTIVE_POINTER = "active.json"


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def per_intent_f1(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """F1 of every intent that occurs in `gold` (scikit-learn's `f1_score`, zero_division=0)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    scores: dict[str, float] = {}
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def score(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """The figures of one test file (see the module's docstring); None where a group is empty."""
    f1 = per_intent_f1(gold, predicted)
    pairs = list(zip(gold, predicted, strict=True))
    critical = [p for g, p in pairs if g in CRITICAL_INTENTS]
    hoc = [p for g, p in pairs if g in HIGH_OR_CRITICAL]
    normal = [p for g, p in pairs if g not in HIGH_OR_CRITICAL]
    false_alarms = sum(p in CRITICAL_INTENTS for p in normal)
    return {
        "n": len(pairs),
        "macro_f1": sum(f1.values()) / len(f1) if f1 else 0.0,
        "accuracy": _share(sum(g == p for g, p in pairs), len(pairs)) or 0.0,
        "critical_n": len(critical),
        "critical_recall": _share(sum(p in CRITICAL_INTENTS for p in critical), len(critical)),
        "hoc_n": len(hoc),
        "hoc_recall": _share(sum(p in HIGH_OR_CRITICAL for p in hoc), len(hoc)),
        "normal_n": len(normal),
        "false_alarms": false_alarms,
        "false_alarm_rate": _share(false_alarms, len(normal)),
        "critical_misses": sum(p not in CRITICAL_INTENTS for p in critical),
        "per_intent_f1": f1,
    }


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """Labels (gold and predicted, sorted) and the matrix, rows gold, columns predicted."""
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    return labels, matrix


def mean_macro_f1(files: Mapping[str, Mapping[str, Any]]) -> float:
    values = [float(scores["macro_f1"]) for scores in files.values()]
    return sum(values) / len(values) if values else 0.0


@dataclass
class GateDecision:
    """Whether the candidate may be promoted, and every reason it may not (English)."""

    promotable: bool
    reasons: list[str] = field(default_factory=list)
    current_macro_f1: float = 0.0
    candidate_macro_f1: float = 0.0
    max_macro_f1_drop: float = MAX_MACRO_F1_DROP

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def gate(
    current: Mapping[str, Mapping[str, Any]],
    candidate: Mapping[str, Mapping[str, Any]],
    max_macro_f1_drop: float = MAX_MACRO_F1_DROP,
) -> GateDecision:
    """Decides on the candidate from both models' `score` of the same test files.

    Refused when: a file scored for the current model was not scored for the candidate (or no
    file was scored at all); the candidate's critical recall is lower on any file that has
    critical messages; the mean macro-F1 over the files drops by more than `max_macro_f1_drop`.
    """
    reasons: list[str] = []
    if not current:
        reasons.append("no test file was scored, so nothing shows the candidate is as safe")
    missing = sorted(set(current) - set(candidate))
    if missing:
        reasons.append(f"the candidate was not scored on {', '.join(missing)}")
    for name in sorted(set(current) & set(candidate)):
        before = current[name].get("critical_recall")
        after = candidate[name].get("critical_recall")
        if before is None:
            continue
        if after is None or after < before - EPSILON:
            reasons.append(
                f"critical recall is lower on {name}: "
                f"{_pct(after)} for the candidate, {_pct(before)} for the current model"
            )
    current_f1 = mean_macro_f1(current)
    candidate_f1 = mean_macro_f1({name: candidate[name] for name in current if name in candidate})
    if current and current_f1 - candidate_f1 > max_macro_f1_drop + EPSILON:
        reasons.append(
            f"macro-F1 (mean over the files) drops by {current_f1 - candidate_f1:.3f}, more than "
            f"{max_macro_f1_drop:.2f}: {candidate_f1:.3f} for the candidate, "
            f"{current_f1:.3f} for the current model"
        )
    return GateDecision(
        promotable=not reasons,
        reasons=reasons,
        current_macro_f1=current_f1,
        candidate_macro_f1=candidate_f1,
        max_macro_f1_drop=max_macro_f1_drop,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


# --------------------------------------------------------------------------- #
# The active-model pointer (models/active.json): which model the running Rasa should use.
# --------------------------------------------------------------------------- #


def read_active(registry: Path) -> Path | None:
    """The promoted model's file when the pointer names one that exists, else None."""
    pointer = registry / ACTIVE_POINTER
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("model") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        return None
    path = (registry / name).resolve()
    return path if path.is_file() else None


def write_active(registry: Path, model: Path, **meta: Any) -> None:
    """Points the registry at `model` (a file inside `registry`), atomically."""
    relative = model.resolve().relative_to(registry.resolve())
    data = {
        "model": str(relative),
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 - py3.10
        **meta,
    }
    registry.mkdir(parents=True, exist_ok=True)
    temporary = registry / f".{ACTIVE_POINTER}.{os.getpid()}"
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, registry / ACTIVE_POINTER)
