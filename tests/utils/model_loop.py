"""A stack of real processes on the model loop's tiny fixture (tests/e2e/model_loop_fixture/),
for the tests that train, compare, promote and restore models (tests/e2e/test_model_loop.py,
tests/browser/test_trainer.py): every path the model half writes (the registry, the reports, the
job's status and lock, the NLU data) is in a temporary folder, never the repository's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.utils.e2e import ROOT, free_port, stack_module
from triage_core import model_gate

FIXTURE = ROOT / "tests" / "e2e" / "model_loop_fixture"
BOT_PY = ROOT / ".venv-bot" / "bin" / "python"


def first_model(work: Path) -> Path:
    """Trains the first model on the small data and makes it current, as `make train` and a
    first promotion would; returns its file in `work`/models."""
    registry, nlu = work / "models", work / "nlu"
    nlu.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE / "nlu_small.yml", nlu / "nlu.yml")
    subprocess.run(
        [
            "nice",
            "-n",
            "19",
            str(BOT_PY),
            str(ROOT / "scripts" / "compare_models.py"),
            "--config",
            str(FIXTURE / "config.yml"),
            "--data",
            str(nlu),
            str(ROOT / "data" / "rules"),
            "--tests",
            str(FIXTURE / "test_nlu.yml"),
            "--registry",
            str(registry),
            "--reports",
            str(work / "first-report"),
            "--jobs",
            str(work / "first-jobs"),
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2"),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    first = next((registry / "candidates").glob("candidate-*.tar.gz"))
    model_gate.write_active(registry, first)
    return first


def model_loop_stack(work: Path, first: Path, password: str):
    """A Stack (not started) whose trainings run on the fixture and write only under `work`."""
    nlu = work / "nlu"
    return stack_module.Stack(
        service_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        database_url=f"sqlite:///{work / 'handoff.db'}",
        log_dir=work / "log",
        model=first,
        model_registry=work / "models",
        service_env={
            "ENVIRONMENT": "test",
            "DEMO_COUNSELLOR_PASSWORD": password,
            "NLU_DATA_DIR": str(nlu),
            "MODEL_REPORTS_DIR": str(work / "reports"),
            "TRAINING_JOBS_DIR": str(work / "jobs"),
            "COMPARE_CONFIG": str(FIXTURE / "config.yml"),
            "COMPARE_DATA": os.pathsep.join([str(nlu), str(ROOT / "data" / "rules")]),
            "COMPARE_TESTS": str(FIXTURE / "test_nlu.yml"),
            "RASA_TIMEOUT_SECONDS": "60",
            "RASA_QUICK_TIMEOUT_SECONDS": "60",
        },
    )
