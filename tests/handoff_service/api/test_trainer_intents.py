"""The trainer's per-intent view (GET /api/v1/trainer/intents[/{intent}], handoff_service/
intent_view.py): an intent's examples as data/nlu holds them, its cross-validation figures, its
confusions in both directions with example pairs, thin data marked, and a cross-validation older
than the data said so. On a small NLU folder and a cross-validation report written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.utils.service import start
from triage_core.nlu_files import data_fingerprint
from triage_core.taxonomy import INTENTS

NLU = """version: "3.1"
nlu:
- intent: parent_alcohol
  examples: |
    - min mor drikker hver aften
    - far drikker øl hele weekenden
    - min [mor](carer) er fuld igen
    - min stedfar drikker vin hver dag
- intent: own_substance_use
  examples: |
    - jeg drikker selv for meget
    - jeg ryger hash hver dag
"""
HARD = """version: "3.1"
nlu:
- intent: parent_alcohol
  examples: |
    - min mor drikker og glemmer at hente mig
- intent: conflict_home
  examples: |
    - der er altid råberi hjemme
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "nlu"
    folder.mkdir()
    (folder / "family.yml").write_text(NLU, encoding="utf-8")
    (folder / "hard_cases.yml").write_text(HARD, encoding="utf-8")
    return folder


@pytest.fixture
def settings(settings, data_dir: Path):
    settings.nlu_data_dir = data_dir
    return settings


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    monkeypatch.setenv("MODEL_REPORTS_DIR", str(folder))
    return folder


def fingerprint(data_dir: Path) -> str:
    return data_fingerprint({p.name: p.read_text(encoding="utf-8") for p in data_dir.glob("*.yml")})


def write_cv(reports: Path, data_dir: Path, errors: list[dict], **extra) -> None:
    report = {
        "generated": "2026-12-01T20:00:00Z",
        "pipeline": "bot/config.yml",
        "folds": 5,
        "examples": 9,
        "data_fingerprint": fingerprint(data_dir),
        "per_intent": {
            "parent_alcohol": {"precision": 0.8, "recall": 0.6, "f1": 0.686, "support": 5},
            "own_substance_use": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
            "conflict_home": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
        },
        "errors": errors,
        **extra,
    }
    (reports / "cross_validation.json").write_text(json.dumps(report), encoding="utf-8")


ERRORS = [
    # parent_alcohol read as own_substance_use twice, once as conflict_home
    {
        "text": "far drikker øl hele weekenden",
        "gold": "parent_alcohol",
        "predicted": "own_substance_use",
    },
    {"text": "min mor er fuld igen", "gold": "parent_alcohol", "predicted": "own_substance_use"},
    {
        "text": "min mor drikker og glemmer at hente mig",
        "gold": "parent_alcohol",
        "predicted": "conflict_home",
    },
    # own use read as a parent's
    {
        "text": "jeg drikker selv for meget",
        "gold": "own_substance_use",
        "predicted": "parent_alcohol",
    },
]


def test_every_intent_with_its_examples_and_figures(
    client: TestClient, reports, data_dir, trainer_headers
) -> None:
    write_cv(reports, data_dir, ERRORS)
    body = client.get("/api/v1/trainer/intents", headers=trainer_headers).json()
    assert [row["intent"] for row in body["intents"]] == list(INTENTS)
    rows = {row["intent"]: row for row in body["intents"]}
    assert rows["parent_alcohol"]["examples"] == 5
    assert rows["parent_alcohol"]["files"] == ["family.yml", "hard_cases.yml"]
    assert rows["parent_alcohol"]["f1"] == 0.686
    # No examples at all is thin; an F1 below 0.8 is thin too; a well-known intent is not.
    assert rows["suicidal"]["examples"] == 0 and rows["suicidal"]["f1"] is None
    assert rows["parent_alcohol"]["thin"] and rows["own_substance_use"]["thin"]
    assert body["cross_validation"]["stale"] is False
    assert body["cross_validation"]["folds"] == 5


def test_one_intent_shows_its_confusions_with_example_pairs(
    client: TestClient, reports, data_dir, trainer_headers
) -> None:
    write_cv(reports, data_dir, ERRORS)
    body = client.get("/api/v1/trainer/intents/parent_alcohol", headers=trainer_headers).json()
    # The examples as Rasa reads them: the entity annotation stripped, in file order.
    assert [e["text"] for e in body["examples"]] == [
        "min mor drikker hver aften",
        "far drikker øl hele weekenden",
        "min mor er fuld igen",
        "min stedfar drikker vin hver dag",
        "min mor drikker og glemmer at hente mig",
    ]
    assert body["files"] == {"family.yml": 4, "hard_cases.yml": 1}
    cv = body["cross_validation"]
    assert (cv["f1"], cv["recall"], cv["support"]) == (0.686, 0.6, 5)
    # Its examples were read as own use twice (most frequent first), as conflict once; each
    # misread text is paired with the other intent's example sharing most words with it.
    assert [(c["intent"], c["count"]) for c in cv["read_as"]] == [
        ("own_substance_use", 2),
        ("conflict_home", 1),
    ]
    own_use = cv["read_as"][0]["pairs"]
    assert own_use[0] == {
        "text": "far drikker øl hele weekenden",
        "nearest": "jeg drikker selv for meget",
    }
    assert cv["read_as"][1]["pairs"] == [
        {"text": "min mor drikker og glemmer at hente mig", "nearest": "der er altid råberi hjemme"}
    ]
    # The other direction: own use taken for a parent's drinking, paired with the nearest
    # example of parent_alcohol.
    assert cv["taken_for"] == [
        {
            "intent": "own_substance_use",
            "count": 1,
            "pairs": [
                {"text": "jeg drikker selv for meget", "nearest": "min mor drikker hver aften"}
            ],
        }
    ]


def test_a_cross_validation_older_than_the_data_says_so(
    client: TestClient, reports, data_dir, trainer_headers
) -> None:
    write_cv(reports, data_dir, ERRORS)
    path = data_dir / "family.yml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "- intent: parent_alcohol\n  examples: |\n    - mor drikker igen i aften\n",
        encoding="utf-8",
    )
    body = client.get("/api/v1/trainer/intents", headers=trainer_headers).json()
    assert body["cross_validation"]["stale"] is True
    # The examples are the files as they are now.
    assert {r["intent"]: r["examples"] for r in body["intents"]}["parent_alcohol"] == 6
    detail = client.get("/api/v1/trainer/intents/parent_alcohol", headers=trainer_headers).json()
    assert detail["cross_validation"]["stale"] is True


def test_without_a_cross_validation_the_examples_still_show(
    client: TestClient, reports, trainer_headers
) -> None:
    body = client.get("/api/v1/trainer/intents", headers=trainer_headers).json()
    assert body["cross_validation"] is None
    detail = client.get("/api/v1/trainer/intents/own_substance_use", headers=trainer_headers).json()
    assert detail["cross_validation"] is None
    assert [e["text"] for e in detail["examples"]] == [
        "jeg drikker selv for meget",
        "jeg ryger hash hver dag",
    ]
    # A report that cannot be read is treated as none, not as an error.
    (reports / "cross_validation.json").write_text("{ not json", encoding="utf-8")
    assert (
        client.get("/api/v1/trainer/intents", headers=trainer_headers).json()["cross_validation"]
        is None
    )


def test_unknown_intent_and_access(
    client: TestClient, reports, trainer_headers, counsellor_headers, admin_headers
) -> None:
    answer = client.get("/api/v1/trainer/intents/homework", headers=trainer_headers)
    assert answer.status_code == 404 and answer.json()["detail"] == "Emnet findes ikke."
    _, young, _ = start(client)
    for path in ("/api/v1/trainer/intents", "/api/v1/trainer/intents/violence"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=young).status_code == 401
        assert client.get(path, headers=counsellor_headers).status_code == 403
        assert client.get(path, headers=admin_headers).status_code == 200


def test_the_shipped_data_is_read_whole(
    client: TestClient, settings, reports, trainer_headers
) -> None:
    """On the product's own data/nlu: every intent has examples, and the counts are the ones
    Rasa's YAML reader sees (triage_core.nlu_files)."""
    settings.nlu_data_dir = Path(__file__).resolve().parents[3] / "data" / "nlu"
    rows = client.get("/api/v1/trainer/intents", headers=trainer_headers).json()["intents"]
    assert all(row["examples"] >= 20 for row in rows), [r for r in rows if r["examples"] < 20]
