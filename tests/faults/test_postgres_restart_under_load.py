"""PostgreSQL restarted under load: 20 young people write at once while the test stops the
throw-away cluster (scripts/postgres.sh restart: fast shutdown, cut connections), waits and
starts it again. The service process is never restarted.

Afterwards: every message the service acknowledged (2xx) is stored exactly once; the ones it
did not acknowledge are sent again with the same Idempotency-Key, as the page does after
"Beskeden blev ikke sendt", and then stored exactly once too; no crisis message without its
lexicon verdict, no bot answer without its turn; every stored message answered within the
recovery interval; /healthz 200 again by itself; every request during the outage answered with
a Danish 503 in bounded time (no hang, no other 5xx, no dropped connection); no text in a log.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.faults.support import (
    DANISH_503,
    RECOVERY_SECONDS,
    duplicates,
    half_written,
    log_hits,
    service_stack,
    unanswered,
    wait_for,
)
from tests.utils.e2e import ROOT

PEOPLE = 20
OUTAGE_SECONDS = 3
CRISIS = "jeg vil ikke leve mere"
ORDINARY = "min far drikker igen"
# Longest answer allowed: the admission gate's wait (10 s) and a margin; more is a hang.
BOUND_SECONDS = 15


@dataclass
class Sent:
    text: str
    key: str
    conversation: int
    status: int | None = None  # None: no HTTP answer (connection dropped, timeout)
    detail: str = ""
    seconds: float = 0.0
    started: float = 0.0


def _the_throw_away_cluster(url: str) -> bool:
    state = subprocess.run(
        ["bash", "scripts/postgres.sh", "url"], cwd=ROOT, capture_output=True, text=True
    )
    if state.returncode != 0:
        return False
    return make_url(state.stdout.strip()) == make_url(url)


def _send(api: httpx.Client, conversation: dict, sent: Sent) -> None:
    sent.started = time.monotonic()
    try:
        response = api.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": sent.text},
            headers={
                "Authorization": f"Bearer {conversation['token']}",
                "Idempotency-Key": sent.key,
            },
        )
        sent.status = response.status_code
        if response.status_code >= 300:
            sent.detail = response.json().get("detail", response.text)
    except (httpx.HTTPError, ValueError) as error:
        sent.detail = type(error).__name__
    sent.seconds = time.monotonic() - sent.started


@pytest.mark.slow
@pytest.mark.parametrize(
    "keep_alive",
    [
        pytest.param(False, id="new-connection-per-request"),
        # Before the database errors had their own handler, the request after a 503 on a
        # kept-alive connection was dropped (79 of 476): the catch-all re-raised and uvicorn
        # closed the connection.
        pytest.param(True, id="kept-alive-connections"),
    ],
)
def test_postgres_restarted_under_load(keep_alive, tmp_path, fault_database, fake_rasa):
    if not _the_throw_away_cluster(os.environ["TEST_DATABASE_URL"]):
        pytest.skip("TEST_DATABASE_URL is not scripts/postgres.sh's cluster: not restarting it")
    marker = uuid.uuid4().hex[:8]
    # 20 writers at machine speed send far more than a young person could; the per-person
    # limit (30 a minute) is tested in tests/handoff_service/api/test_rate_limits.py.
    stack = service_stack(tmp_path, fault_database, fake_rasa.port, MESSAGES_PER_MINUTE="100000")
    process = stack.processes["service"]
    sent: list[Sent] = []
    try:
        api = httpx.Client(
            base_url=stack.service_url,
            timeout=BOUND_SECONDS + 15,
            # A browser keeps connections alive; without, every request has a new connection.
            limits=httpx.Limits(
                max_connections=PEOPLE + 5, max_keepalive_connections=PEOPLE if keep_alive else 0
            ),
        )
        conversations = [api.post("/api/v1/conversations").json() for _ in range(PEOPLE)]
        stop = threading.Event()

        def young_person(number: int) -> None:
            base = CRISIS if number % 4 == 0 else ORDINARY
            count = 0
            while not stop.is_set():
                count += 1
                message = Sent(f"{base} {marker}-{number}-{count}", uuid.uuid4().hex, number)
                sent.append(message)
                _send(api, conversations[number], message)
                time.sleep(0.1)

        writers = [
            threading.Thread(target=young_person, args=(n,), daemon=True) for n in range(PEOPLE)
        ]
        for writer in writers:
            writer.start()
        time.sleep(2)
        down_at = time.monotonic()
        restarted = subprocess.run(
            ["bash", "scripts/postgres.sh", "restart", str(OUTAGE_SECONDS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        up_at = time.monotonic()
        assert restarted.returncode == 0, restarted.stderr
        healthy_after = wait_for(
            lambda: _healthz(api) and max(time.monotonic() - up_at, 0.001), 30, "/healthz 200 again"
        )
        time.sleep(3)  # the load goes on after the outage
        stop.set()
        for writer in writers:
            writer.join(timeout=BOUND_SECONDS + 20)
        assert not any(writer.is_alive() for writer in writers), "a request hangs"
        assert process.poll() is None, "the service died"

        acknowledged = [m for m in sent if m.status is not None and 200 <= m.status < 300]
        refused = [m for m in sent if not (m.status is not None and 200 <= m.status < 300)]
        statuses = Counter(m.status for m in sent)
        not_danish_503 = [
            (m.status, m.detail)
            for m in refused
            if m.status != 503 or not any(word in m.detail for word in DANISH_503)
        ]
        slowest = max(m.seconds for m in sent)
        counts = dict(
            fault_database.rows(
                "SELECT text, count(*) FROM messages WHERE sender = 'young' AND text LIKE %s "
                "GROUP BY text",
                f"%{marker}%",
            )
        )
        lost = [m.text for m in acknowledged if counts.get(m.text, 0) == 0]
        twice = [text for text, count in counts.items() if count > 1]
        stored_unacknowledged = sum(1 for m in refused if counts.get(m.text))

        # The page sends what was not acknowledged again, with the same key.
        retried = [replace(m) for m in refused]
        for message in retried:
            _send(api, conversations[message.conversation], message)
        retry_failures = [(m.status, m.detail) for m in retried if m.status != 200]

        wait_for(lambda: not unanswered(fault_database), RECOVERY_SECONDS, "all answered")
        after_retry = dict(
            fault_database.rows(
                "SELECT text, count(*) FROM messages WHERE sender = 'young' AND text LIKE %s "
                "GROUP BY text",
                f"%{marker}%",
            )
        )
        not_once = [m.text for m in sent if after_retry.get(m.text) != 1]
        crisis_texts = [m.text for m in sent if m.text.startswith(CRISIS)]
        torn = half_written(fault_database, crisis_texts)
        api.close()
    finally:
        stack.stop_all()
    hits = log_hits(tmp_path / "log", [m.text for m in sent])
    during = [m for m in sent if m.started < up_at and m.started + m.seconds > down_at]
    print(
        f"\n{'kept alive' if keep_alive else 'new connections'}: {len(sent)} messages from "
        f"{PEOPLE} people, PostgreSQL down "
        f"{up_at - down_at:.1f} s; statuses {dict(statuses)}; {len(during)} sent during the "
        f"outage; slowest answer {slowest:.2f} s; /healthz 200 {healthy_after:.2f} s after "
        f"PostgreSQL was up; acknowledged lost {len(lost)}, duplicates {len(twice)}; "
        f"not acknowledged but stored {stored_unacknowledged}; retries failed "
        f"{len(retry_failures)}; half-written {len(torn)}; log hits {len(hits)}"
    )
    assert refused, "no request met the outage: the restart was not under load"
    assert lost == [] and twice == [] and duplicates(fault_database) == 0
    assert slowest < BOUND_SECONDS
    assert retry_failures == [], retry_failures[:5]
    assert not_once == [], not_once[:5]
    assert torn == []
    assert hits == []
    assert not_danish_503 == [], Counter(not_danish_503).most_common(5)


def _healthz(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
