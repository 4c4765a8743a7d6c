"""The exporter's text edit (triage_core/nlu_files.py) read back with Rasa's own reader: the new
block is an ordinary intent block, placeholders stay text, never entities, and the entity
pattern is Rasa's. Runs in the bot environment (tests/handoff_service/test_label_export.py
covers the database side)."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage_core import nlu_files
from triage_core.taxonomy import INTENTS

rasa_yaml = pytest.importorskip("rasa.shared.nlu.training_data.formats.rasa_yaml")
entities_parser = pytest.importorskip("rasa.shared.nlu.training_data.entities_parser")

REPO_NLU = Path(__file__).resolve().parents[2] / "data" / "nlu"
ITEMS = [
    nlu_files.Item(1, "[NAVN] slår mig når mor er ude", "violence"),
    nlu_files.Item(2, "[NAVN](min søster) slår mig tit", "violence"),
    nlu_files.Item(3, 'skriv til [NAVN]{"entity": "carer"} på [TELEFON]', "request_human"),
    nlu_files.Item(4, "min ven [NAVN][NAVN] drikker", "parent_alcohol"),
    nlu_files.Item(5, "jeg bor på [ADRESSE] og er bange", "feeling_anxious"),
]


def test_the_entity_pattern_is_rasas():
    assert nlu_files.ENTITY_REGEX.pattern == entities_parser.ENTITY_REGEX.pattern


def test_exported_examples_read_back_with_rasa_as_plain_text_of_their_intent():
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(REPO_NLU.glob("*.yml"))}
    plan = nlu_files.plan_export(files, ITEMS, INTENTS, "2026-12-01")
    assert sorted(plan.adjusted) == [2, 3, 4]
    expected = {item.id: item.label for item in ITEMS}
    found: dict[str, str] = {}
    for name, text in plan.files.items():
        reader = rasa_yaml.RasaYAMLReader()
        before = reader.reads(files[name])
        after = rasa_yaml.RasaYAMLReader().reads(text)
        assert len(after.intent_examples) == len(before.intent_examples) + sum(
            len(lines) for file, _items, lines in plan.written.values() if file == name
        )
        old = {(m.get("text"), m.get("intent")) for m in before.intent_examples}
        for message in after.intent_examples:
            if (message.get("text"), message.get("intent")) not in old:
                assert not message.get("entities"), message.get("text")
                found[message.get("text")] = message.get("intent")
    assert found == {
        "[NAVN] slår mig når mor er ude": "violence",
        "[NAVN] (min søster) slår mig tit": "violence",
        'skriv til [NAVN] {"entity": "carer"} på [TELEFON]': "request_human",
        "min ven [NAVN] [NAVN] drikker": "parent_alcohol",
        "jeg bor på [ADRESSE] og er bange": "feeling_anxious",
    }
    assert sorted(found.values()) == sorted(expected.values())
