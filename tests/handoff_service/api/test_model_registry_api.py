"""The model half of the trainer's API (handoff_service/model_registry.py): who may use it, the
training job's lock, status and cancel (a real compare_models.py process, stopped early), the
latest comparison and its images, promotion refused by the gate or without Rasa, and
`make promote`'s CLI promoting and restoring with the audit trail. Rasa is not running here
(the settings point at a closed port); tests/e2e/test_model_loop.py switches a real one."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service import model_registry as registry
from handoff_service.models import AuditEvent
from tests.utils.factories import make_user
from tests.utils.service import login_headers, start
from triage_core import model_gate

FIXTURE = Path(__file__).resolve().parents[2] / "e2e" / "model_loop_fixture"
LEADER_PASSWORD = "leder-kodeord-1234"  # noqa: S105 - test data

ENDPOINTS = (
    ("GET", "/api/v1/trainer/training", None),
    ("POST", "/api/v1/trainer/training", None),
    ("POST", "/api/v1/trainer/training/cancel", None),
    ("GET", "/api/v1/trainer/comparison", None),
    ("GET", "/api/v1/trainer/comparison/image?name=model_comparison_f1.png", None),
    ("GET", "/api/v1/trainer/models", None),
    ("POST", "/api/v1/trainer/models/promote", None),
    ("POST", "/api/v1/trainer/models/restore", {"model": "model-x.tar.gz"}),
)


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> registry.Paths:
    found = registry.Paths(tmp_path / "models", tmp_path / "reports", tmp_path / "jobs")
    monkeypatch.setenv("MODEL_REGISTRY_DIR", str(found.registry))
    monkeypatch.setenv("MODEL_REPORTS_DIR", str(found.reports))
    monkeypatch.setenv("TRAINING_JOBS_DIR", str(found.jobs))
    monkeypatch.setenv("RASA_JWT_SECRET", "test-rasa-secret-" + "z" * 32)
    # A training started by a test runs on the tiny fixture, never on the product's data.
    monkeypatch.setenv("COMPARE_CONFIG", str(FIXTURE / "config.yml"))
    monkeypatch.setenv("COMPARE_DATA", str(FIXTURE / "nlu_small.yml"))
    monkeypatch.setenv("COMPARE_TESTS", str(FIXTURE / "test_nlu.yml"))
    found.registry.mkdir()
    return found


def _call(client: TestClient, method: str, path: str, body, headers):
    return client.request(method, path, json=body, headers=headers)


def test_only_trainers_and_admins_get_in(
    client: TestClient, session: Session, paths, counsellor_headers, trainer_headers
) -> None:
    make_user(session, "leder", "leader", LEADER_PASSWORD)
    leader = login_headers(client, "leder", LEADER_PASSWORD)
    _, young, _ = start(client)
    for method, path, body in ENDPOINTS:
        assert _call(client, method, path, body, {}).status_code == 401, path
        assert _call(client, method, path, body, young).status_code == 401, path
        assert _call(client, method, path, body, counsellor_headers).status_code == 403, path
        assert _call(client, method, path, body, leader).status_code == 403, path
    # The trainer gets past the gate (the answers themselves are tested below); a training is
    # not started here.
    for method, path, body in ENDPOINTS:
        if (method, path) == ("POST", "/api/v1/trainer/training"):
            continue
        assert _call(client, method, path, body, trainer_headers).status_code not in (401, 403)


def test_nothing_yet(client: TestClient, paths, trainer_headers, admin_headers) -> None:
    status = client.get("/api/v1/trainer/training", headers=trainer_headers).json()
    assert status == {"state": "idle", "running": False}
    assert client.get("/api/v1/trainer/comparison", headers=admin_headers).status_code == 404
    history = client.get("/api/v1/trainer/models", headers=trainer_headers).json()
    assert history == {"active": None, "promotions": [], "models": []}
    refused = client.post("/api/v1/trainer/models/promote", headers=trainer_headers)
    assert refused.status_code == 409
    assert "ingen sammenligning" in refused.json()["detail"]
    cancel = client.post("/api/v1/trainer/training/cancel", headers=trainer_headers)
    assert cancel.status_code == 409
    # Only the comparison's own image names are served.
    other = client.get("/api/v1/trainer/comparison/image?name=../secret.png", headers=admin_headers)
    assert other.status_code in (404, 422)


def test_one_training_at_a_time(client: TestClient, paths, trainer_headers) -> None:
    paths.jobs.mkdir()
    with paths.lock_file.open("a") as held:  # e.g. `make compare-models` in a terminal
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy = client.post("/api/v1/trainer/training", headers=trainer_headers)
        assert busy.status_code == 409
        assert "allerede en træning" in busy.json()["detail"]
        assert client.get("/api/v1/trainer/training", headers=trainer_headers).json()["running"]


def test_a_training_starts_in_the_background_and_is_cancelled(
    client: TestClient, session: Session, paths, trainer_headers
) -> None:
    started = client.post("/api/v1/trainer/training", headers=trainer_headers)
    assert started.status_code == 202, started.text
    assert started.json()["state"] == "running"
    # The real job runs (nice 19), holds the lock and reports its steps.
    assert client.post("/api/v1/trainer/training", headers=trainer_headers).status_code == 409
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get("/api/v1/trainer/training", headers=trainer_headers).json()
        if status.get("step") == "training":
            break
        time.sleep(0.3)
    assert status["running"] and status["step"] == "training", status
    stopped = client.post("/api/v1/trainer/training/cancel", headers=trainer_headers)
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["state"] == "cancelled"
    assert not stopped.json()["running"]
    assert not registry.training_running(paths)
    # No half-trained candidate is left, and the next training may start.
    assert list((paths.registry / "candidates").glob("*.tar.gz")) == []
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"training_started", "training_cancelled"} <= actions


def _comparison(paths: registry.Paths, promotable: bool, current: str | None) -> Path:
    """A comparison as compare_models.py writes it, with a candidate file in the registry."""
    candidate = paths.registry / "candidates" / "candidate-20261201120000-abc.tar.gz"
    candidate.parent.mkdir(parents=True, exist_ok=True)
    candidate.write_bytes(b"not a real model: Rasa is not running in these tests")
    gold = ["suicidal", "self_harm", "greet", "feeling_sad"]
    better = model_gate.score(gold, gold)
    worse = model_gate.score(gold, ["feeling_sad", "self_harm", "greet", "feeling_sad"])
    cand, cur = (better, worse) if promotable else (worse, better)
    decision = model_gate.gate({"probe8": cur}, {"probe8": cand}).as_dict()
    paths.reports.mkdir(parents=True, exist_ok=True)
    (paths.reports / "model_comparison.json").write_text(
        json.dumps(
            {
                "created_at": "2026-12-01T12:00:00+00:00",
                "models": {
                    "candidate": {"name": candidate.name, "file": f"candidates/{candidate.name}"},
                    "current": {"name": current, "file": current} if current else None,
                },
                "files": {"probe8": {"path": "x", "current": cur, "candidate": cand}},
                "pooled": {"current": cur, "candidate": cand},
                "decision": decision,
                "confusions": {"candidate": [], "current": []},
                "images": {"per_intent_f1": "model_comparison_f1.png"},
                "train_seconds": 12.5,
            }
        )
    )
    (paths.reports / "model_comparison_f1.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    return candidate


def test_the_comparison_and_its_images(client: TestClient, paths, trainer_headers) -> None:
    _comparison(paths, promotable=False, current="model-base.tar.gz")
    shown = client.get("/api/v1/trainer/comparison", headers=trainer_headers).json()
    assert shown["decision"]["promotable"] is False
    assert shown["decision"]["reasons"][0].startswith("critical recall is lower on probe8")
    assert shown["files"]["probe8"]["candidate"]["critical_recall"] == 0.5
    assert shown["per_intent_f1"]["current"]["suicidal"] == 1.0
    assert shown["images"] == ["model_comparison_f1.png"]
    image = client.get(
        "/api/v1/trainer/comparison/image?name=model_comparison_f1.png", headers=trainer_headers
    )
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    missing = client.get(
        "/api/v1/trainer/comparison/image?name=model_comparison_risk.png", headers=trainer_headers
    )
    assert missing.status_code == 404


def test_promotion_is_refused_by_the_gate_and_without_rasa(
    client: TestClient, session: Session, paths, trainer_headers
) -> None:
    _comparison(paths, promotable=False, current=None)
    refused = client.post("/api/v1/trainer/models/promote", headers=trainer_headers)
    assert refused.status_code == 409
    assert "tillader ikke" in refused.json()["detail"]
    _comparison(paths, promotable=True, current=None)
    down = client.post("/api/v1/trainer/models/promote", headers=trainer_headers)
    assert down.status_code == 503  # the page never changes the model behind Rasa's back
    assert model_gate.read_active(paths.registry) is None
    assert session.scalars(select(registry.ModelPromotion)).first() is None


def test_make_promote_and_restore_without_a_running_rasa(
    session: Session, paths, settings, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RASA_URL", settings.rasa_url)
    from handoff_service.config import get_settings

    get_settings.cache_clear()
    base = paths.registry / "model-base.tar.gz"
    base.write_bytes(b"the model before any promotion")
    model_gate.write_active(paths.registry, base)

    _comparison(paths, promotable=False, current="model-base.tar.gz")
    assert registry.main(["promote"]) == 1
    assert "critical recall is lower" in capsys.readouterr().err

    candidate = _comparison(paths, promotable=True, current="model-base.tar.gz")
    assert registry.main(["promote"]) == 0
    assert "Rasa is not running" in capsys.readouterr().out
    assert model_gate.read_active(paths.registry) == candidate.resolve()
    session.expire_all()
    row = session.scalars(select(registry.ModelPromotion)).one()
    assert (row.action, row.model, row.previous_model) == (
        "promote",
        "candidates/candidate-20261201120000-abc.tar.gz",
        "model-base.tar.gz",
    )
    assert row.figures["files"]["probe8"]["candidate"]["critical_recall"] == 1.0
    assert row.figures["decision"]["promotable"] is True
    # Promoting the same candidate twice is refused.
    assert registry.main(["promote"]) == 1
    capsys.readouterr()

    assert registry.main(["restore", "model-unknown.tar.gz"]) == 1
    assert registry.main(["restore", "model-base.tar.gz"]) == 0
    assert model_gate.read_active(paths.registry) == base.resolve()
    capsys.readouterr()
    assert registry.main(["history"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert history["active"] == "model-base.tar.gz"
    assert [m["model"] for m in history["models"]] == [
        "candidates/candidate-20261201120000-abc.tar.gz",
        "model-base.tar.gz",
    ]
    assert [p["action"] for p in history["promotions"]] == ["restore", "promote"]
    session.expire_all()
    audits = [
        (a.action, a.reason)
        for a in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("model_%")).order_by(AuditEvent.id)
        )
    ]
    assert [action for action, _ in audits] == ["model_promoted", "model_restored"]
    assert all(reason and reason.startswith("promotion_") for _, reason in audits)

    get_settings.cache_clear()
