"""The cluster of `make run-cluster` (scripts/cluster.py) for the tests in this folder: PostgreSQL
(TEST_DATABASE_URL's server, or a throw-away one from scripts/postgres.sh), Redis
(scripts/redis.sh), haproxy, two service processes, two Rasa servers and the action server, all
on free loopback ports, started once per session (about 1-2 min: two Rasa servers load).

Every test asks for `cluster` by name; the autouse fixture starts again whatever a test killed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.support import cluster_module
from tests.utils.e2e import stack_module

SERVICE_ENV = {
    "ENVIRONMENT": "test",
    "DEMO_COUNSELLOR_PASSWORD": "e2e-password",
    "RASA_TIMEOUT_SECONDS": "60",
    "RASA_QUICK_TIMEOUT_SECONDS": "60",
    # The retention job under test (test_jobs_run_once.py) runs every 1.2 s in both processes.
    "RETENTION_INTERVAL_MINUTES": "0.02",
}


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster: starts make run-cluster's processes (PostgreSQL, Redis, haproxy, 2 services, "
        "2 Rasa, the action server)",
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator:
    model = (
        Path(os.environ["E2E_MODEL"])
        if os.environ.get("E2E_MODEL")
        else stack_module.current_model()
    )
    if not model.exists():
        pytest.fail(f"no trained model for the current data ({model.name}); `make train`")
    work_dir = Path(tempfile.mkdtemp(prefix="cluster-test-"))
    running = cluster_module.Cluster(
        work_dir=work_dir,
        ports=cluster_module.Ports.free(),
        postgres_url=os.environ.get("TEST_DATABASE_URL") or None,
        model=model,
        service_env=SERVICE_ENV,
    )
    try:
        running.start(timeout=400)
        yield running
    finally:
        running.stop_all()


@pytest.fixture(autouse=True)
def cluster_whole(request) -> Iterator[None]:
    """A test that killed a process leaves the whole cluster running again."""
    yield
    if "cluster" not in request.fixturenames:
        return
    running = request.getfixturevalue("cluster")
    for name in cluster_module.STARTERS:
        if not running.running(name):
            running.restart(name, timeout=400)
