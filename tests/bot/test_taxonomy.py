"""One taxonomy: the intent names in code, in Rasa's domain and data, in the content library,
the risk lexicon and the counsellor's labels agree, and the risk rule has one home."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from triage_core.content_library import KNOWN_INTENTS, load_library
from triage_core.lexicon import RiskLexicon, default_lexicon_path
from triage_core.risk import (
    CRITICAL_INTENTS,
    HIGH_INTENTS,
    INTENT_RISK,
    RiskLevel,
    highest_intent_risk,
    raised_risk,
    risk_of_intent,
)
from triage_core.taxonomy import (
    CRISIS_INTENTS,
    DANGER_KINDS,
    DANGER_OF_INTENT,
    FALLBACK_INTENT,
    INTENTS,
    TOPIC_INTENTS,
)

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_CODE = ("bot", "handoff_service", "triage_core", "scripts")


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_domain_lists_exactly_the_taxonomy_in_its_order():
    assert _yaml(ROOT / "bot" / "domain.yml")["intents"] == list(INTENTS)


def test_the_training_data_teaches_every_intent_and_no_other():
    taught = {
        block["intent"]
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        for block in _yaml(path).get("nlu", [])
        if "intent" in block
    }
    assert taught == set(INTENTS)


def test_the_content_library_answers_only_taxonomy_intents_and_every_topic():
    assert set(INTENTS) == KNOWN_INTENTS
    library = load_library()
    answered = {intent for item in library.items for intent in item.intents}
    assert answered <= set(INTENTS)
    assert set(TOPIC_INTENTS) | set(CRISIS_INTENTS) <= answered


def test_the_lexicon_names_only_risky_intents_and_known_danger_kinds():
    lexicon = RiskLexicon.from_yaml(default_lexicon_path())
    assert {rule.intent for rule in lexicon.rules} <= set(INTENT_RISK)
    assert {rule.danger for rule in lexicon.rules if rule.danger} <= set(DANGER_KINDS)


def test_risk_levels_of_the_taxonomy():
    assert CRITICAL_INTENTS == set(CRISIS_INTENTS) == {"self_harm", "suicidal", "immediate_danger"}
    assert HIGH_INTENTS == {"violence"}
    assert set(INTENT_RISK) <= set(INTENTS)
    assert {risk_of_intent(i) for i in INTENTS if i not in INTENT_RISK} == {RiskLevel.NORMAL}
    assert risk_of_intent(FALLBACK_INTENT) == risk_of_intent(None) == "normal"
    assert set(DANGER_OF_INTENT) == CRITICAL_INTENTS


def test_risk_never_goes_down():
    assert raised_risk("critical", "normal") == "critical"
    assert raised_risk("high", "critical") == "critical"
    assert raised_risk(None, "high") == "high"
    assert highest_intent_risk(["greet", "violence", "feeling_sad"]) == "high"
    assert highest_intent_risk([]) == "normal"


def test_the_counsellor_sees_a_danish_label_for_every_topic_and_danger_kind():
    texts = _yaml(ROOT / "handoff_service" / "texts_da.yml")
    assert set(TOPIC_INTENTS) | set(CRISIS_INTENTS) <= set(texts["topic_labels"])
    assert set(DANGER_KINDS) - {"general"} <= set(texts["danger_labels"])


def _product_lines(pattern: str) -> list[str]:
    regex = re.compile(pattern)
    return [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in PRODUCT_CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if regex.search(line)
    ]


def test_the_risk_rule_and_the_queue_order_are_written_once_in_product_code():
    # The intent -> risk map, the critical set and the queue ORDER BY each have one home.
    assert _product_lines(r'"violence":\s*RiskLevel\.HIGH|"violence":\s*"high"') == [
        "triage_core/risk.py:" + _line_of(ROOT / "triage_core/risk.py", '"violence": RiskLevel')
    ]
    crisis_literal = r'"self_harm",\s*"suicidal",\s*"immediate_danger"'
    assert _product_lines(crisis_literal) == [
        "triage_core/taxonomy.py:" + _line_of(ROOT / "triage_core/taxonomy.py", "CRISIS_INTENTS:")
    ]
    assert _product_lines(r"risk_rank\.desc\(\)") == [
        "handoff_service/models.py:"
        + _line_of(ROOT / "handoff_service/models.py", "Conversation.risk_rank.desc()"),
        "handoff_service/queue.py:" + _line_of(ROOT / "handoff_service/queue.py", "QUEUE_ORDER = "),
    ]


def _line_of(path: Path, needle: str) -> str:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return str(number)
    raise AssertionError(f"{needle!r} not in {path}")
