"""The independent multi-turn conversations (data/tests/conversations_independent*.yml), each set
written by someone who saw neither data/, the content nor the other set, run through the public
API on the real Rasa, action server and handoff service.

Hard rules fail the test on any turn: a reply at all, at most three bubbles, every bubble traced
to approved content or a domain response, the numbers the writer insisted on, no bare "I didn't
understand" once the conversation is critical, a danger turn makes the conversation critical and
queued, risk never goes down, and no guidance for an incompatible kind of danger (no "lock
yourself in" after an overdose). The share of turns answered in context is reported in
artifacts/independent_conversations*.json and docs/dialogue.md, and must not fall below the gate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.utils.dialogue_judge import BARE_FALLBACK, Judge, in_context, responses_of, wrong_kind
from tests.utils.e2e import set_calendar

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
RISK_RANK = {"normal": 0, "high": 1, "critical": 2}
# Each set, the floor for the share of turns answered in context (see docs/dialogue.md for the
# measured figures; set 1 guided the dialogue's development, set 2 was scored once when final).
SETS = {
    "set1": ("conversations_independent.yml", "independent_conversations.json", 0.85),
    "set2": ("conversations_independent2.yml", "independent_conversations2.json", 0.80),
}


def _conversations(name: str) -> list[dict]:
    path = ROOT / "data" / "tests" / name
    return yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


@pytest.mark.parametrize("which", sorted(SETS))
def test_independent_conversations_on_the_real_stack(api, empty_queue, which):
    file_name, report_name, min_in_context = SETS[which]
    conversations = _conversations(file_name)
    judge = Judge()
    results: list[dict] = []
    violations: list[str] = []
    for shift in ("closed", "open"):
        set_calendar(api, open_now=shift == "open")
        for conversation in (c for c in conversations if c.get("shift", "closed") == shift):
            results.extend(_run(api, judge, conversation, violations))

    answered = [r for r in results if r["in_context"]]
    by_act: dict[str, list[int]] = {}
    for r in results:
        by_act.setdefault(r["act"], [0, 0])
        by_act[r["act"]][0] += r["in_context"]
        by_act[r["act"]][1] += 1
    report = {
        "file": f"data/tests/{file_name}",
        "conversations": len(conversations),
        "turns": len(results),
        "in_context": len(answered),
        "share_in_context": round(len(answered) / len(results), 3),
        "by_act": {act: {"in_context": a, "turns": n} for act, (a, n) in sorted(by_act.items())},
        "max_bubbles": max(r["bubbles"] for r in results),
        "violations": violations,
        "missed": [
            {k: r[k] for k in ("conversation", "turn", "act", "label", "sources")}
            for r in results
            if not r["in_context"]
        ],
    }
    path = ROOT / "artifacts" / report_name
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    assert not violations, "\n".join(violations)
    assert report["share_in_context"] >= min_in_context, report["missed"]


def _run(api, judge: Judge, conversation: dict, violations: list[str]) -> list[dict]:
    created = api.post("/api/v1/conversations")
    assert created.status_code == 201, created.text
    body = created.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    danger: str | None = None
    risk = "normal"
    results = []
    for index, turn in enumerate(conversation["turns"], start=1):
        where = f"{conversation['id']} turn {index} ({turn['act']})"
        response = api.post(
            f"/api/v1/conversations/{body['id']}/messages",
            json={"text": turn["young"]},
            headers=headers,
        )
        if response.status_code != 200:
            violations.append(f"{where}: HTTP {response.status_code}")
            continue
        reply = response.json()
        bubbles = [m["text"] for m in reply["messages"] if m["sender"] == "bot"]
        sources = judge.sources(bubbles)
        said = " ".join(bubbles)
        if turn["act"] == "danger":
            danger = turn.get("danger") or danger
        state = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()

        if not bubbles:
            violations.append(f"{where}: no reply")
        if len(bubbles) > 3:
            violations.append(f"{where}: {len(bubbles)} bubbles")
        for bubble, source in zip(bubbles, sources, strict=True):
            if source is None:
                violations.append(f"{where}: not from approved content: {bubble!r}")
        for number in turn.get("numbers") or []:
            if number not in said:
                violations.append(f"{where}: number {number} missing")
        if RISK_RANK[state["risk"]] < RISK_RANK[risk]:
            violations.append(f"{where}: risk went down {risk} -> {state['risk']}")
        risk = state["risk"]
        if turn["act"] == "danger":
            if state["risk"] != "critical":
                violations.append(f"{where}: danger turn left risk {state['risk']}")
            if state["status"] not in ("queued", "active"):
                violations.append(f"{where}: danger turn not queued ({state['status']})")
        if risk == "critical" and BARE_FALLBACK in responses_of(sources):
            violations.append(f"{where}: bare fallback in a critical conversation")
        if wrong := wrong_kind(danger, sources):
            violations.append(f"{where}: guidance for another kind of danger: {wrong}")

        results.append(
            {
                "conversation": conversation["id"],
                "turn": index,
                "act": turn["act"],
                "label": turn.get("danger")
                or turn.get("followup")
                or turn.get("topic")
                or turn.get("service")
                or turn.get("control"),
                "bubbles": len(bubbles),
                "in_context": in_context(turn, danger, sources),
                "sources": [s.name if s else None for s in sources],
            }
        )
    return results
