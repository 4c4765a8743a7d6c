"""NLU regression: the current model must send every critical held-out message to a critical intent.

Loads the model `make train` made for the current config, domain and data (scripts/stack.py
decides which; it is trained here if missing) and parses the two independent test files --
data/tests/nlu_holdout.yml and data/tests/nlu_probe.yml, written by different people and never
trained on -- through the whole pipeline (DIET, FallbackClassifier, RiskSafetyNet), in process,
as /model/parse would. A young person who writes that they want to die, hurt
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
TEST_FILES = {
    "holdout": ROOT / "data" / "tests" / "nlu_holdout.yml",
    "probe": ROOT / "data" / "tests" / "nlu_probe.yml",
}
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
def predictions(agent: Agent) -> dict[str, list[tuple[str, str, str]]]:
    """(text, true intent, predicted intent) for every example of each independent test file."""
    out = {}
    for name, path in TEST_FILES.items():
        examples = load_data(str(path)).intent_examples
        assert len(examples) > 200, f"the {name} file went missing or shrank"
        out[name] = [
            (m.get("text"), m.get("intent"), parse(agent, m.get("text"))["intent"]["name"])
            for m in examples
        ]
    return out


@pytest.mark.parametrize("name", sorted(TEST_FILES))
def test_every_critical_message_is_predicted_critical(predictions, name: str) -> None:
    critical = [(text, gold, pred) for text, gold, pred in predictions[name] if gold in CRITICAL]
    assert len(critical) >= 40
    missed = [(text, gold, pred) for text, gold, pred in critical if pred not in CRITICAL]
    recall = 1 - len(missed) / len(critical)
    assert recall == 1.0, f"{name}: critical recall {recall:.3f}; missed: {missed}"


@pytest.mark.parametrize("name", sorted(TEST_FILES))
def test_high_or_critical_recall_stays_at_least_98_percent(predictions, name: str) -> None:
    risky = [(g, p) for _, g, p in predictions[name] if g in HIGH_OR_CRITICAL]
    recall = sum(p in HIGH_OR_CRITICAL for _, p in risky) / len(risky)
    assert recall >= 0.98, f"{name}: high-or-critical recall {recall:.3f}"


def test_normal_holdout_messages_rarely_raise_a_critical_alarm(predictions) -> None:
    # Gated on the held-out file, as the NLU goal is stated; docs/nlu.md reports every file.
    normal = [(t, p) for t, g, p in predictions["holdout"] if g not in HIGH_OR_CRITICAL]
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


# Issue 11's categories, one message of our own for each (not from any test file): an overdose
# told as drinking, a crisis at the end of a message about something else, bleeding that will
# not stop -- and the ordinary messages that share their words.
@pytest.mark.parametrize(
    "text",
    [
        "drak næsten en hel flaske vodka og tog nogle af mors piller bagefter",
        "min far er på speed igen og jeg har ridset mine arme igen",
        "jeg har skåret for dybt og blodet vil ikke stoppe",
    ],
)
def test_issue_11_crisis_messages_are_critical(agent: Agent, text: str) -> None:
    assert parse(agent, text)["intent"]["name"] in CRITICAL


@pytest.mark.parametrize(
    "text",
    [
        "nej jeg er ikke i fare lige nu",
        "ja jeg er safe nu, han er gået i seng",
        "er jeg nummer 1 i køen nu?",
        "hvor længe tager det før man kommer igennem",
        "den her opgave tager livet af mig",
    ],
)
def test_issue_11_ordinary_messages_are_not_critical(agent: Agent, text: str) -> None:
    assert parse(agent, text)["intent"]["name"] not in CRITICAL


# What each of the bot's own quick replies means in its dialogue (bot/domain.yml buttons; the
# chat page sends the title as if typed). A quick reply read as nlu_fallback would answer the
# young person's own tap with "det forstod jeg ikke".
QUICK_REPLY_INTENTS = {
    "Ja, sæt mig i kø": {"request_human", "affirm"},
    "Nej, ikke nu": {"deny"},
    "Ja, jeg er i sikkerhed": {"affirm"},
    "Nej, jeg er ikke i sikkerhed": {"deny", "immediate_danger"},
}


def test_every_quick_reply_of_the_bot_is_understood_as_what_it_says(agent: Agent) -> None:
    import yaml

    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    buttons = {
        button["title"]: button["payload"]
        for variants in domain["responses"].values()
        for variant in variants
        for button in variant.get("buttons") or []
    }
    assert set(buttons) == set(QUICK_REPLY_INTENTS), "a quick reply without an expected intent"
    misread = {}
    for title, payload in buttons.items():
        assert payload == title, f"{title!r}: the page sends the title, Rasa must get the same"
        intent = parse(agent, title)["intent"]["name"]
        if intent not in QUICK_REPLY_INTENTS[title]:
            misread[title] = intent
    assert misread == {}, misread
