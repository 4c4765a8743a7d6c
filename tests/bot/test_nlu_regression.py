"""NLU regression: the current model must send every critical held-out message to a critical intent.

Loads the model `make train` made for the current config, domain and data (scripts/stack.py
decides which; it is trained here if missing) and parses the independent held-out file
data/tests/nlu_holdout.yml through the whole pipeline (DIET, FallbackClassifier, RiskSafetyNet),
in process, as /model/parse would. A young person who writes that they want to die, hurt
themselves or are in danger right now must be treated as critical; a counsellor must not be
pulled away by harmless sentences that merely contain a risk word.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("rasa")

from rasa.core.agent import Agent  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HOLDOUT = ROOT / "data" / "tests" / "nlu_holdout.yml"
CRITICAL = {"suicidal", "self_harm", "immediate_danger"}
HIGH_OR_CRITICAL = CRITICAL | {"violence"}

sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402


@pytest.fixture(scope="module")
def agent() -> Agent:
    model = stack.current_model()
    if not model.exists():  # `make test` trains before pytest; a bare pytest run trains here
        stack.train()
    return Agent.load(str(model))


def parse(agent: Agent, text: str) -> dict:
    return asyncio.run(agent.parse_message(text))


@pytest.fixture(scope="module")
def holdout(agent: Agent) -> list[tuple[str, str, str]]:
    """(text, true intent, predicted intent) for every held-out example."""
    examples = load_data(str(HOLDOUT)).intent_examples
    assert len(examples) > 200, "the held-out file went missing or shrank"
    return [
        (m.get("text"), m.get("intent"), parse(agent, m.get("text"))["intent"]["name"])
        for m in examples
    ]


def test_every_critical_holdout_message_is_predicted_critical(holdout) -> None:
    critical = [(text, gold, predicted) for text, gold, predicted in holdout if gold in CRITICAL]
    assert len(critical) >= 40
    missed = [(text, gold, predicted) for text, gold, predicted in critical
              if predicted not in CRITICAL]
    recall = 1 - len(missed) / len(critical)
    assert recall == 1.0, f"critical recall {recall:.3f}; missed: {missed}"


def test_high_or_critical_holdout_recall_stays_at_least_98_percent(holdout) -> None:
    risky = [(g, p) for _, g, p in holdout if g in HIGH_OR_CRITICAL]
    recall = sum(p in HIGH_OR_CRITICAL for _, p in risky) / len(risky)
    assert recall >= 0.98, f"high-or-critical recall {recall:.3f}"


def test_normal_holdout_messages_rarely_raise_a_critical_alarm(holdout) -> None:
    normal = [(t, p) for t, g, p in holdout if g not in HIGH_OR_CRITICAL]
    alarms = [(t, p) for t, p in normal if p in CRITICAL]
    assert len(alarms) / len(normal) <= 0.03, f"critical false alarms: {alarms}"


@pytest.mark.parametrize(
    "text",
    [
        "vi havde om selvmord i dansk",
        "jeg er død træt",
    ],
)
def test_harmless_sentences_with_risk_words_are_not_critical(agent: Agent, text: str) -> None:
    assert parse(agent, text)["intent"]["name"] not in CRITICAL


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil ikk leve mere",
        "min mor trækker ikke vejret",
    ],
)
def test_plain_crisis_messages_are_critical(agent: Agent, text: str) -> None:
    assert parse(agent, text)["intent"]["name"] in CRITICAL
