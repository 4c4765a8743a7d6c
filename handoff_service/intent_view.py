"""The trainer's per-intent view (issue #14, docs/trainer.md "One intent"): an intent's training
examples as data/nlu holds them now, and its confusions from the last cross-validation with
example pairs, so a trainer sees where the data is thin.

Two sources, both files of the checkout, no database:

* data/nlu (``settings.nlu_data_dir``): read with :mod:`triage_core.nlu_files`, the reader the
  label export edits with. Its texts were written for training (or are inbox texts a trainer
  accepted, scrubbed); nothing from a conversation that was not accepted is in them.
* reports/cross_validation.json, written by ``make nlu-report`` (scripts/nlu_report.py): the
  shipped pipeline's 5-fold cross-validation on data/nlu, per intent precision, recall, F1 and
  support, and every example the whole pipeline got wrong out of fold (text, true intent,
  prediction). It records the data's fingerprint; when data/nlu has changed since, the view says
  the figures are older than the data.

An *example pair* is one misread example next to the example of the intent it was taken for
that shares most words with it (Jaccard on lower-cased words): what the model had to tell apart.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage_core.nlu_files import data_fingerprint, strip_entities, yaml_intents
from triage_core.taxonomy import INTENTS

CV_REPORT = "cross_validation.json"
#: Pairs shown per confusion, and confusions shown per direction.
PAIRS_PER_CONFUSION = 3
CONFUSIONS_SHOWN = 6
#: An intent is "thin" when it has fewer than this share of the median intent's examples, or a
#: cross-validation F1 below THIN_F1.
THIN_SHARE = 0.5
THIN_F1 = 0.8

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Example:
    text: str
    file: str


def read_data(data_dir: Path) -> tuple[dict[str, list[Example]], str | None]:
    """Every intent's examples (entity annotations stripped, in file order) and the files'
    fingerprint; empty and None when the directory is missing."""
    if not data_dir.is_dir():
        return {}, None
    files = {path.name: path.read_text(encoding="utf-8") for path in sorted(data_dir.glob("*.yml"))}
    examples: dict[str, list[Example]] = {}
    for name, text in files.items():
        for intent, lines in yaml_intents(text):
            examples.setdefault(intent, []).extend(Example(strip_entities(x), name) for x in lines)
    return examples, data_fingerprint(files)


def read_cross_validation(reports_dir: Path) -> dict[str, Any] | None:
    """The last cross-validation report, or None when there is none (or it cannot be read)."""
    try:
        report = json.loads((reports_dir / CV_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("per_intent"), dict):
        return None
    return report


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.casefold()))


def nearest(text: str, candidates: list[Example]) -> str | None:
    """The candidate sharing most words with `text` (Jaccard; the first on a tie)."""
    words = _words(text)
    best: tuple[float, str] | None = None
    for candidate in candidates:
        other = _words(candidate.text)
        union = words | other
        score = len(words & other) / len(union) if union else 0.0
        if best is None or score > best[0]:
            best = (score, candidate.text)
    return best[1] if best else None


def _meta(report: dict[str, Any] | None, fingerprint: str | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "generated": report.get("generated"),
        "folds": report.get("folds"),
        "examples": report.get("examples"),
        "pipeline": report.get("pipeline"),
        "stale": fingerprint is None or report.get("data_fingerprint") != fingerprint,
    }


def _thin(count: int, median: float, f1: float | None) -> bool:
    return count < THIN_SHARE * median or (f1 is not None and f1 < THIN_F1)


def summaries(data_dir: Path, reports_dir: Path) -> dict[str, Any]:
    """Every intent of the taxonomy: its number of examples, its files and its CV figures."""
    examples, fingerprint = read_data(data_dir)
    report = read_cross_validation(reports_dir)
    per_intent = (report or {}).get("per_intent", {})
    counts = {intent: len(examples.get(intent, [])) for intent in INTENTS}
    median = statistics.median(counts.values()) if counts else 0.0
    rows = []
    for intent in INTENTS:
        figures = per_intent.get(intent) or {}
        f1 = figures.get("f1")
        rows.append(
            {
                "intent": intent,
                "examples": counts[intent],
                "files": sorted({e.file for e in examples.get(intent, [])}),
                "precision": figures.get("precision"),
                "recall": figures.get("recall"),
                "f1": f1,
                "support": figures.get("support"),
                "thin": _thin(counts[intent], median, f1),
            }
        )
    return {
        "cross_validation": _meta(report, fingerprint),
        "median_examples": median,
        "intents": rows,
    }


def _grouped(errors: list[dict[str, Any]], key: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Errors grouped by the intent under `key`, most frequent first (then by name), at most
    CONFUSIONS_SHOWN groups."""
    counts = Counter(error[key] for error in errors)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:CONFUSIONS_SHOWN]
    return [(other, [e for e in errors if e[key] == other]) for other, _ in ranked]


def _confusion(
    other: str, misread: list[dict[str, Any]], paired_with: list[Example]
) -> dict[str, Any]:
    """One confusion: the other intent, how often, and example pairs (a misread text next to
    the example of `paired_with` sharing most words with it)."""
    pairs = [
        {"text": e["text"], "nearest": nearest(e["text"], paired_with)}
        for e in misread[:PAIRS_PER_CONFUSION]
    ]
    return {"intent": other, "count": len(misread), "pairs": pairs}


def read_as(
    intent: str, errors: list[dict[str, Any]], examples: dict[str, list[Example]]
) -> list[dict[str, Any]]:
    """What this intent's examples were taken for, each paired with that intent's nearest
    example."""
    own = [e for e in errors if e["gold"] == intent]
    return [
        _confusion(other, misread, examples.get(other, []))
        for other, misread in _grouped(own, "predicted")
    ]


def taken_for(
    intent: str, errors: list[dict[str, Any]], examples: dict[str, list[Example]]
) -> list[dict[str, Any]]:
    """Which other intents' examples were taken for this one, each paired with this intent's
    nearest example."""
    others = [e for e in errors if e["predicted"] == intent]
    return [
        _confusion(other, misread, examples.get(intent, []))
        for other, misread in _grouped(others, "gold")
    ]


def detail(intent: str, data_dir: Path, reports_dir: Path) -> dict[str, Any]:
    """One intent: its examples, its CV figures, what its examples were read as (with the
    nearest example of that intent) and which other intents' examples were read as it (with the
    nearest example of this one)."""
    examples, fingerprint = read_data(data_dir)
    report = read_cross_validation(reports_dir)
    counts = [len(examples.get(name, [])) for name in INTENTS]
    median = statistics.median(counts) if counts else 0.0
    own = examples.get(intent, [])
    cv: dict[str, Any] | None = None
    figures: dict[str, Any] = {}
    if report is not None:
        figures = (report.get("per_intent") or {}).get(intent) or {}
        errors = [
            e
            for e in report.get("errors") or []
            if isinstance(e, dict) and {"text", "gold", "predicted"} <= e.keys()
        ]
        cv = {
            **(_meta(report, fingerprint) or {}),
            "precision": figures.get("precision"),
            "recall": figures.get("recall"),
            "f1": figures.get("f1"),
            "support": figures.get("support"),
            "read_as": read_as(intent, errors, examples),
            "taken_for": taken_for(intent, errors, examples),
        }
    return {
        "intent": intent,
        "examples": [{"text": e.text, "file": e.file} for e in own],
        "files": dict(sorted(Counter(e.file for e in own).items())),
        "median_examples": median,
        "thin": _thin(len(own), median, figures.get("f1")),
        "cross_validation": cv,
    }
