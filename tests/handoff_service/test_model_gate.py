"""The promotion gate and the scores it decides on (triage_core/model_gate.py), pure Python."""

from __future__ import annotations

import json

import pytest

from triage_core import model_gate
from triage_core.model_gate import confusion, gate, per_intent_f1, score

# Three critical, one high and four normal messages.
GOLD = [
    "suicidal",
    "self_harm",
    "immediate_danger",
    "violence",
    "greet",
    "feeling_sad",
    "feeling_sad",
    "parent_alcohol",
]


def test_score_counts_the_critical_group_not_the_exact_intent() -> None:
    predicted = list(GOLD)
    predicted[0] = "self_harm"  # still critical: a hit for critical recall, a miss for F1
    predicted[2] = "feeling_sad"  # a critical miss
    predicted[5] = "suicidal"  # a false alarm on a normal message
    scores = score(GOLD, predicted)
    assert scores["critical_recall"] == pytest.approx(2 / 3)
    assert scores["critical_misses"] == 1
    assert scores["hoc_recall"] == pytest.approx(3 / 4)
    assert scores["false_alarms"] == 1
    assert scores["false_alarm_rate"] == pytest.approx(1 / 4)
    assert scores["n"] == 8


def test_f1_matches_scikit_learns_definition() -> None:
    gold = ["a", "a", "b", "b", "c"]
    predicted = ["a", "b", "b", "b", "a"]
    f1 = per_intent_f1(gold, predicted)
    # a: tp 1, fp 1, fn 1 -> 0.5; b: tp 2, fp 1, fn 0 -> 0.8; c: never right -> 0
    assert f1 == pytest.approx({"a": 0.5, "b": 0.8, "c": 0.0})
    assert score(gold, predicted)["macro_f1"] == pytest.approx(1.3 / 3)


def test_a_file_without_critical_messages_has_no_critical_recall() -> None:
    scores = score(["greet", "thank"], ["greet", "greet"])
    assert scores["critical_recall"] is None
    assert scores["hoc_recall"] is None


def test_confusion_rows_are_gold_columns_predicted() -> None:
    labels, matrix = confusion(["a", "a", "b"], ["a", "c", "b"])
    assert labels == ["a", "b", "c"]
    assert matrix == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]


def _files(critical: float | None, f1: float, **more: tuple[float | None, float]) -> dict:
    files = {"probe8": {"critical_recall": critical, "macro_f1": f1}}
    files.update({name: {"critical_recall": c, "macro_f1": m} for name, (c, m) in more.items()})
    return files


def test_gate_accepts_a_better_candidate() -> None:
    decision = gate(
        _files(0.95, 0.90, probe9=(0.97, 0.88)), _files(0.98, 0.92, probe9=(0.97, 0.89))
    )
    assert decision.promotable
    assert decision.reasons == []
    assert decision.candidate_macro_f1 == pytest.approx(0.905)


def test_gate_refuses_lower_critical_recall_on_any_one_file() -> None:
    # Better everywhere else, and better macro-F1: one file's critical recall decides.
    decision = gate(
        _files(0.95, 0.90, probe9=(0.97, 0.88)), _files(0.99, 0.95, probe9=(0.96, 0.95))
    )
    assert not decision.promotable
    assert decision.reasons == [
        "critical recall is lower on probe9: 96.0 % for the candidate, 97.0 % for the current model"
    ]


def test_gate_refuses_a_macro_f1_drop_over_one_point() -> None:
    refused = gate(_files(0.95, 0.900), _files(0.95, 0.889))
    assert not refused.promotable
    assert "macro-F1 (mean over the files) drops by 0.011" in refused.reasons[0]
    # A drop of exactly 0.01 (and less) passes.
    assert gate(_files(0.95, 0.900), _files(0.95, 0.890)).promotable
    assert gate(_files(0.95, 0.900), _files(0.95, 0.895)).promotable


def test_gate_gives_every_reason() -> None:
    decision = gate(_files(0.95, 0.9), _files(0.5, 0.5))
    assert len(decision.reasons) == 2
    assert json.loads(json.dumps(decision.as_dict()))["promotable"] is False


def test_gate_refuses_a_file_the_candidate_was_not_scored_on_and_no_files() -> None:
    decision = gate(_files(0.95, 0.9, probe9=(0.9, 0.9)), _files(0.95, 0.9))
    assert decision.reasons == ["the candidate was not scored on probe9"]
    assert not gate({}, {}).promotable


def test_gate_ignores_files_without_critical_messages_for_recall() -> None:
    assert gate(_files(None, 0.9), _files(None, 0.9)).promotable
    # ... but a candidate that has no recall where the current model had one is refused.
    assert not gate(_files(0.9, 0.9), _files(None, 0.9)).promotable


def test_the_active_pointer_round_trips_and_ignores_missing_models(tmp_path) -> None:
    assert model_gate.read_active(tmp_path) is None
    model = tmp_path / "candidates" / "candidate-1.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"model")
    model_gate.write_active(tmp_path, model, promotion_id=3)
    assert model_gate.read_active(tmp_path) == model.resolve()
    assert json.loads((tmp_path / "active.json").read_text())["promotion_id"] == 3
    model.unlink()
    assert model_gate.read_active(tmp_path) is None
    (tmp_path / "active.json").write_text("not json")
    assert model_gate.read_active(tmp_path) is None
