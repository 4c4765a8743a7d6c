"""The OpenAPI schema tells the truth: schemathesis against the app, every check, 0 failures.

The app runs in-process (ASGI) with SQLite in a temporary folder and Rasa on a closed port; the
schema is built from the app object (`app.openapi()`), since `/openapi.json` is published only
in development. Each operation gets a few generated requests with an admin's token (a fresh
token for each request, so a generated logout or role change cannot lock the rest out), plus
schemathesis' coverage cases (missing and wrong values, undeclared methods). Bounded: a few
examples per operation, well under a minute in all.

Nothing is excluded: every check schemathesis has runs on every operation the schema
publishes. The internal API (`/internal/v1`, the bot's action server only) is not in the
published schema, so it is not fuzzed here; tests/handoff_service/api/test_access_matrix.py
and test_bad_input.py cover it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import select

from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.main import create_app
from handoff_service.models import User
from handoff_service.security import create_access_token
from tests.utils.service import DEMO_PASSWORD, INTERNAL_TOKEN, closed_port

MAX_EXAMPLES = 8


def _app():
    # Built at import so schemathesis can parametrize one test per operation; the lifespan
    # (migrations, seed) runs on the first request and stops at the end of the module.
    folder = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    # POST /api/v1/trainer/export writes here, never into the repo's data/nlu.
    shutil.copytree(Path(__file__).resolve().parents[2] / "data" / "nlu", folder / "nlu")
    return create_app(
        Settings(
            environment="test",
            database_url=f"sqlite:///{folder / 'handoff.db'}",
            rasa_url=f"http://127.0.0.1:{closed_port()}",
            rasa_timeout_seconds=1,
            internal_api_token=INTERNAL_TOKEN,
            secret_key="schemathesis-secret-" + "z" * 32,
            demo_counsellor_password=DEMO_PASSWORD,
            seed_demo_data=True,
            background_jobs=False,
            nlu_data_dir=folder / "nlu",
        )
    )


APP = _app()
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with schemathesis.python.asgi.get_client(APP) as client:  # starts the lifespan: migrations
        assert client.get("/healthz").status_code == 200
    yield
    schemathesis.python.asgi.shutdown_lifespans()
    print(f"\nschemathesis: {len(CALLS)} requests")  # shown with -s


CALLS: list[str] = []


def admin_token(app) -> dict[str, str]:
    with app.state.session_factory() as session:
        admin = session.scalar(select(User).where(User.username == "demo-admin"))
        assert admin is not None
        token = create_access_token(
            user_id=admin.id,
            role=admin.role,
            token_version=admin.token_version,
            secret=app.state.settings.secret_key,
            minutes=5,
            now=utcnow(),
        )
    return {"Authorization": f"Bearer {token}"}


load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_schema_matches_what_the_service_does(case):
    # A case that probes the credential itself (none, empty, malformed, or headers that break
    # the schema, such as a missing Authorization) keeps its own.
    probes_auth = any(name.lower() == "authorization" for name in case.headers or {}) or (
        case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    )
    headers = {} if probes_auth else admin_token(APP)
    CALLS.append(case.operation.label)
    case.call_and_validate(headers=headers, checks=ALL_CHECKS)
