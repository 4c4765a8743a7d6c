"""The real system, shared by the end-to-end (tests/e2e) and browser (tests/browser) tests.

It lives here, in their common directory, so that one session starts one stack for both. The
helpers are imported inside the fixtures: tests/bot runs in the bot environment, which has none
of the service's packages, and never asks for these fixtures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory) -> Iterator:
    from tests.utils.e2e import free_port, stack_module

    # E2E_MODEL lets a developer reuse a model while the training data is being edited.
    model = (
        Path(os.environ["E2E_MODEL"])
        if os.environ.get("E2E_MODEL")
        else stack_module.current_model()
    )
    if not model.exists():
        pytest.fail(
            f"no trained model for the current data ({model.name}); "
            "`make train` or `make test` trains it"
        )
    workdir = tmp_path_factory.mktemp("stack")
    # POST /api/v1/trainer/export writes into NLU_DATA_DIR: a copy, never the repo's data/nlu.
    shutil.copytree(Path(__file__).resolve().parent.parent / "data" / "nlu", workdir / "nlu")
    stack = stack_module.Stack(
        service_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        database_url=f"sqlite:///{workdir / 'handoff.db'}",
        log_dir=workdir / "log",
        model=model,
        service_env={
            "ENVIRONMENT": "test",
            "DEMO_COUNSELLOR_PASSWORD": "e2e-password",
            "NLU_DATA_DIR": str(workdir / "nlu"),
            "RASA_TIMEOUT_SECONDS": "60",
            # On a busy test machine the bot's own crisis answer (per kind of danger) is what is
            # tested, not the service's quick fallback (tests/handoff_service/test_rasa_breaker.py).
            "RASA_QUICK_TIMEOUT_SECONDS": "60",
        },
    )
    stack.start()
    try:
        stack.wait_until_ready(timeout=300)
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture
def api(live_stack) -> Iterator:
    import httpx

    with httpx.Client(base_url=live_stack.service_url, timeout=90) as client:
        yield client


@pytest.fixture(autouse=True)
def live_stack_whole(request) -> Iterator[None]:
    """A test that stopped or killed a process of the shared system (Rasa, the action server,
    the service) leaves it running again, so no test depends on the order the tests run in."""
    if "live_stack" not in request.fixturenames:
        yield
        return
    stack = request.getfixturevalue("live_stack")
    yield
    from tests.utils.e2e import restore_stack

    restore_stack(stack)
