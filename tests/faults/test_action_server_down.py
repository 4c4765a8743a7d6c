"""The action server down, with the real Rasa: Rasa answers, but every custom action fails.

Rasa 3.6 logs a failed custom action and carries on, so its webhook may answer with whatever came
before the action, or nothing. Either way the young person must get an answer with 112 and a
place in the queue, and the message must be stored once. Uses the shared real system
(`live_stack`, tests/conftest.py, which starts the action server again after the test). Slow:
it needs Rasa with a trained model (make faults trains one).
"""

from __future__ import annotations

import pytest

from tests.utils.e2e import start

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEXTS = {
    "ordinary": "min far drikker hver aften og jeg kan ikke sove",
    "crisis": "jeg vil ikke leve mere",
}


def test_action_server_down_still_answers_with_112_and_a_queue_place(api, live_stack):
    conversations = {kind: start(api) for kind in TEXTS}  # greeted while the actions run
    live_stack.stop("actions")
    for kind, text in TEXTS.items():
        body, headers = conversations[kind]
        response = api.post(
            f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=headers
        )
        assert response.status_code == 200, response.text
        turn = response.json()
        reply = " ".join(m["text"] for m in turn["messages"])
        assert "112" in reply, f"{kind}: {reply!r}"
        assert turn["status"] == "queued", f"{kind}: {turn['status']}, {reply!r}"
        assert turn["queue"] and turn["queue"]["position"] >= 1
        stored = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
        assert [m["text"] for m in stored["messages"] if m["sender"] == "young"] == [text]
        if kind == "crisis":
            assert stored["risk"] == "critical"
    for log in live_stack.log_dir.glob("*.log"):
        content = log.read_text(encoding="utf-8", errors="replace")
        assert not [text for text in TEXTS.values() if text in content], log.name
