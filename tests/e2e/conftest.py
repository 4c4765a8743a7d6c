"""Fixtures for the tests against the real system: Rasa with the trained model, the action
server and the service. The stack itself (`live_stack`, `api`) is started once per session by
tests/conftest.py, shared with the browser tests; the helpers are in tests/utils/e2e.py."""

from __future__ import annotations

import pytest

from tests.utils.e2e import login


@pytest.fixture
def counsellor(api) -> dict[str, str]:
    return login(api, "demo")


@pytest.fixture
def empty_queue(api, counsellor) -> None:
    """Earlier tests leave people waiting in the shared system: close them so positions are 1+."""
    while (claimed := api.post("/api/v1/queue/claim", headers=counsellor)).status_code == 200:
        api.post(
            f"/api/v1/conversations/{claimed.json()['id']}/close",
            json={"outcome": "other"},
            headers=counsellor,
        )
