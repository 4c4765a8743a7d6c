"""Rasa's log holds no message text, also when a call to Rasa is aborted.

Rasa 3.6's REST channel logs the whole message on an aborted call
(`rest.message.received.timeout`); scripts/rasa_logging.yml with scripts/rasa_log_privacy.py
rewrites that record. The calls here are cut off by the client a moment after they are sent,
as the service does when its Rasa timeout runs out.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e

ABORTED = "rest.message.received.timeout"


def test_an_aborted_call_leaves_no_message_text_in_any_log(live_stack):
    marker = f"hemmeligtnavn{uuid.uuid4().hex[:10]}"
    text = f"jeg hedder {marker} og min far drikker hver aften"
    rasa_log = live_stack.log_dir / "rasa.log"
    already = rasa_log.read_text(errors="replace").count(ABORTED) if rasa_log.exists() else 0
    deadline = time.monotonic() + 25
    aborted = 0
    while time.monotonic() < deadline:
        try:
            # Cut off long before Rasa can answer: Rasa's handler is cancelled mid-turn.
            httpx.post(
                f"{live_stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": f"log-test-{uuid.uuid4()}", "message": text},
                timeout=httpx.Timeout(0.02, connect=2),
            )
        except httpx.TimeoutException:
            pass
        time.sleep(0.5)  # the record is written when Rasa notices the closed connection
        aborted = rasa_log.read_text(errors="replace").count(ABORTED) - already
        if aborted:
            break
    assert aborted, "no aborted call was logged by Rasa; the test did not reach the case"
    for log in live_stack.log_dir.glob("*.log"):
        content = log.read_text(errors="replace")
        assert marker not in content, f"message text in {log.name}"
    line = next(
        line for line in rasa_log.read_text(errors="replace").splitlines() if ABORTED in line
    )
    assert "[redacted]" in line
