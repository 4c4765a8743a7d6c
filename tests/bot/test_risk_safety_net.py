"""RiskSafetyNet, the Rasa NLU component that lifts predictions the lexicon flags as riskier.

Runs in the bot env (Rasa 3.6). Messages carry a fake prior prediction, as DIETClassifier
and FallbackClassifier would leave it; no model training is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest.importorskip("rasa")

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.engine.validation import validate  # noqa: E402
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier  # noqa: E402
from rasa.shared.data import TrainingType  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.components.risk_safety_net import SAFETY_NET_KEY, RiskSafetyNet  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def make_component(tmp_path: Path, **config) -> RiskSafetyNet:
    return RiskSafetyNet.create(
        {**RiskSafetyNet.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("risk_safety_net"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


@pytest.fixture
def net(tmp_path: Path) -> RiskSafetyNet:
    return make_component(tmp_path)


def predicted(text: str, intent: str, confidence: float, *others: tuple[str, float]) -> Message:
    """A message as it leaves the classifiers: intent + ranking, both in the parse output."""
    message = Message.build(text=text)
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    ranking = [{"name": intent, "confidence": confidence}]
    ranking += [{"name": name, "confidence": conf} for name, conf in others]
    message.set("intent_ranking", ranking, add_to_output=True)
    return message


def parse_output(message: Message) -> dict:
    """What /model/parse and `rasa test nlu` see."""
    return message.as_dict(only_output_properties=True)


def test_lifts_greet_to_suicidal_and_records_why(net: RiskSafetyNet) -> None:
    message = predicted("jeg vil ikk leve mere", "greet", 0.9, ("feeling_sad", 0.06))

    [result] = net.process([message])
    output = parse_output(result)

    assert output["intent"] == {"name": "suicidal", "confidence": 1.0}
    assert [entry["name"] for entry in output["intent_ranking"]] == [
        "suicidal",
        "greet",
        "feeling_sad",
    ]
    assert output["intent_ranking"][1]["confidence"] == 0.9
    reason = output[SAFETY_NET_KEY]
    assert reason["rule_id"] == "suicide_no_will_to_live"
    assert reason["matched"] == "vil ikk leve"
    assert reason["original_intent"] == "greet"
    assert reason["original_confidence"] == 0.9
    assert reason["risk"] == "critical"


def test_overrides_nlu_fallback(net: RiskSafetyNet) -> None:
    # FallbackClassifier put nlu_fallback on top of a low-confidence DIET guess.
    message = predicted(
        "jeg har taget 30 panodiler",
        "nlu_fallback",
        0.4,
        ("own_substance_use", 0.31),
        ("immediate_danger", 0.2),
    )

    [result] = net.process([message])
    output = parse_output(result)

    assert output["intent"]["name"] == "immediate_danger"
    names = [entry["name"] for entry in output["intent_ranking"]]
    assert names == ["immediate_danger", "nlu_fallback", "own_substance_use"]
    assert output[SAFETY_NET_KEY]["original_intent"] == "nlu_fallback"
    assert output[SAFETY_NET_KEY]["rule_id"] == "danger_dosage_ingested"


def test_lifts_violence_prediction_to_critical(net: RiskSafetyNet) -> None:
    message = predicted("han slår hende lige nu", "violence", 0.8)
    [result] = net.process([message])
    assert result.get("intent")["name"] == "immediate_danger"
    assert result.get(SAFETY_NET_KEY)["original_intent"] == "violence"


def test_lifts_normal_prediction_to_violence(net: RiskSafetyNet) -> None:
    message = predicted("min far slog mig i går", "parent_alcohol", 0.7)
    [result] = net.process([message])
    assert result.get("intent") == {"name": "violence", "confidence": 1.0}


def test_never_lowers_suicidal_to_violence(net: RiskSafetyNet) -> None:
    # The lexicon only sees violence here; the classifier's critical intent must stay.
    message = predicted("min far slår mig", "suicidal", 0.55, ("violence", 0.4))
    [result] = net.process([message])
    output = parse_output(result)
    assert output["intent"] == {"name": "suicidal", "confidence": 0.55}
    assert [entry["name"] for entry in output["intent_ranking"]] == ["suicidal", "violence"]
    assert SAFETY_NET_KEY not in output


def test_equal_risk_prediction_is_kept(net: RiskSafetyNet) -> None:
    # Both critical: the classifier's self_harm is not swapped for the lexicon's suicidal.
    message = predicted("jeg vil dø", "self_harm", 0.7)
    [result] = net.process([message])
    assert result.get("intent") == {"name": "self_harm", "confidence": 0.7}
    assert result.get(SAFETY_NET_KEY) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("min far er stiv igen", "parent_alcohol"),
        ("vi havde om selvmord i dansk", "out_of_scope"),
        ("jeg er død træt", "feeling_sad"),
        ("skar løg 🔪 til aftensmad", "out_of_scope"),
    ],
)
def test_normal_message_is_left_untouched(net: RiskSafetyNet, text: str, intent: str) -> None:
    message = predicted(text, intent, 0.83, ("greet", 0.1))
    before = parse_output(message)
    [result] = net.process([message])
    assert parse_output(result) == before


def test_message_without_text_or_prediction(net: RiskSafetyNet) -> None:
    empty = Message.build(text="")
    no_prediction = Message.build(text="jeg skærer i mig selv")
    results = net.process([empty, no_prediction])
    assert results[0].get("intent") is None
    assert results[1].get("intent") == {"name": "self_harm", "confidence": 1.0}
    assert results[1].get("intent_ranking") == [{"name": "self_harm", "confidence": 1.0}]
    assert results[1].get(SAFETY_NET_KEY)["original_intent"] is None


def test_processes_every_message_in_the_batch(net: RiskSafetyNet) -> None:
    messages = [
        predicted("hej", "greet", 0.99),
        predicted("hun trækker ikke vejret", "feeling_anxious", 0.6),
    ]
    results = net.process(messages)
    assert [m.get("intent")["name"] for m in results] == ["greet", "immediate_danger"]


def test_custom_lexicon_path(tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.yml"
    lexicon.write_text(
        yaml.safe_dump(
            {
                "version": "test",
                "rules": [{"id": "only", "intent": "self_harm", "patterns": ["blåbær"]}],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    net = make_component(tmp_path, lexicon_path=str(lexicon))
    [result] = net.process([predicted("jeg spiser blaabaer", "greet", 0.9)])
    assert result.get("intent")["name"] == "self_harm"
    assert result.get(SAFETY_NET_KEY)["lexicon_version"] == "test"
    [result] = net.process([predicted("jeg vil dø", "greet", 0.9)])
    assert result.get("intent")["name"] == "greet"


def test_broken_lexicon_fails_at_load_time(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("rules:\n  - id: x\n    intent: greet\n    patterns: [hej]\n")
    with pytest.raises(ValueError):
        make_component(tmp_path, lexicon_path=str(broken))


def test_registered_and_runs_after_the_fallback_classifier_in_bot_config() -> None:
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.NLU)
    validate(graph)  # Rasa's own check of types and required components, as at train time
    nodes = graph.predict_schema.nodes

    [net_node] = [name for name, node in nodes.items() if node.uses is RiskSafetyNet]
    [fallback_node] = [name for name, node in nodes.items() if node.uses is FallbackClassifier]
    # The safety net consumes the fallback classifier's output, so it can override nlu_fallback.
    assert nodes[net_node].needs == {"messages": fallback_node}
    # And nothing later in the NLU graph but Rasa's /intent handler.
    consumers = [name for name, node in nodes.items() if net_node in node.needs.values()]
    assert [nodes[name].uses.__name__ for name in consumers] == ["RegexMessageHandler"]


def test_matches_the_spacy_lemmas_too_so_inflections_are_caught(tmp_path: Path) -> None:
    """With SpacyTokenizer's lemmas on the message, "trangen" reaches the rule for "trang"."""
    import spacy
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer

    nlp = spacy.load(ROOT / "build" / "spacy_da")
    text = "fik trangen til at skære igen"
    message = predicted(text, "feeling_sad", 0.8)
    message.set("text_spacy_doc", nlp(text))
    tokenizer = SpacyTokenizer(SpacyTokenizer.get_default_config())
    tokenizer.process([message])
    assert "trang" in [token.lemma for token in message.get("text_tokens")]

    make_component(tmp_path).process([message])
    output = parse_output(message)
    assert output["intent"]["name"] == "self_harm"
    assert output[SAFETY_NET_KEY]["original_intent"] == "feeling_sad"


# A short reassurance the classifier read as critical because of its danger words (issue 11):
# the best non-critical intent of its ranking is used, and the reason is recorded.
@pytest.mark.parametrize(
    ("text", "ranking", "expected"),
    [
        ("nej jeg er ikke i fare lige nu", [("immediate_danger", 0.97), ("deny", 0.02)], "deny"),
        (
            "ja jeg er safe nu, han gik i seng",
            [("immediate_danger", 0.9), ("affirm", 0.05)],
            "affirm",
        ),
        ("nej jeg har ikke selvmordstanker", [("suicidal", 0.8), ("self_harm", 0.1)], "deny"),
        (
            "jeg er i sikkerhed nu",
            [("nlu_fallback", 0.4), ("immediate_danger", 0.35), ("affirm", 0.3)],
            "affirm",
        ),
    ],
)
def test_settles_a_short_reassurance_read_as_critical(
    net: RiskSafetyNet, text: str, ranking: list, expected: str
) -> None:
    (intent, confidence), *others = ranking
    [result] = net.process([predicted(text, intent, confidence, *others)])
    output = parse_output(result)
    assert output["intent"]["name"] == expected
    assert output[SAFETY_NET_KEY]["rule_id"] == "reassurance"
    assert output[SAFETY_NET_KEY]["original_intent"] == intent


@pytest.mark.parametrize(
    "text",
    [
        "jeg er i sikkerhed men jeg vil ikke leve mere",  # the lexicon lifts: suicidal
        "jeg er ok nu men jeg tænker stadig på at gøre det",  # a but: no reassurance
        "jeg er ikke i fare, men jeg har det forfærdeligt og ved ikke hvad jeg skal gøre "
        "med mig selv længere",
    ],
)
def test_a_reassurance_with_a_but_or_a_danger_stays_critical(net: RiskSafetyNet, text: str) -> None:
    [result] = net.process([predicted(text, "suicidal", 0.9, ("feeling_sad", 0.05))])
    assert parse_output(result)["intent"]["name"] == "suicidal"


def test_a_reassurance_predicted_normal_is_left_alone(net: RiskSafetyNet) -> None:
    [result] = net.process([predicted("ja jeg er i sikkerhed", "affirm", 0.9)])
    output = parse_output(result)
    assert output["intent"] == {"name": "affirm", "confidence": 0.9}
    assert SAFETY_NET_KEY not in output


@pytest.mark.parametrize(
    "text",
    [
        "lektierne tager seriøst livet af mig",
        "min lærer slår mig ihjel hvis jeg ikke afleverer",
        "jeg dør af cringe",
        "min mobil er ved at dø",
    ],
)
def test_settles_hyperbole_read_as_critical(net: RiskSafetyNet, text: str) -> None:
    [result] = net.process([predicted(text, "suicidal", 0.95, ("out_of_scope", 0.03))])
    assert parse_output(result)["intent"]["name"] == "out_of_scope"


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil tage livet af mig",
        "jeg kommer til at tage livet af mig",
        "lektierne tager livet af mig og jeg vil bare forsvinde for altid",
    ],
)
def test_the_real_thing_is_not_settled_as_hyperbole(net: RiskSafetyNet, text: str) -> None:
    [result] = net.process([predicted(text, "suicidal", 0.95, ("out_of_scope", 0.03))])
    assert parse_output(result)["intent"]["name"] == "suicidal"
