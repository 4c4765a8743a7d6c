"""Every kind of danger and every follow-up of docs/dialogue.md, through the public API on the real
Rasa, action server and handoff service: the right guidance for the kind, the number first, the
follow-ups answered in its context, and never guidance that is wrong for the kind."""

from __future__ import annotations

import pytest

from tests.utils.dialogue_judge import Judge, items_of, responses_of
from tests.utils.e2e import set_calendar

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge()


def start(api):
    body = api.post("/api/v1/conversations").json()
    return body, {"Authorization": f"Bearer {body['token']}"}


def say(api, body, headers, text) -> list[str]:
    response = api.post(
        f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"] if m["sender"] == "bot"]


def ids(judge: Judge, bubbles: list[str]) -> list[str]:
    sources = judge.sources(bubbles)
    assert None not in sources, bubbles  # every word from approved content or the domain
    return [item.id for item in items_of(sources)] + responses_of(sources)


@pytest.mark.parametrize(
    ("text", "kind", "forbidden"),
    [
        ("min far ligger på køkkengulvet og jeg kan ik få liv i ham", "unconscious", "weapon"),
        ("jeg har lige slugt 25 panodil", "overdose", "violence_now"),
        (
            "drak en halv flaske vodka og tog nogle af mors sovepiller bagefter",
            "overdose",
            "weapon",
        ),
        ("jeg har skåret for dybt og det bløder stadig helt vildt", "bleeding", "violence_now"),
        ("min stedfar står med en kniv og truer min mor lige nu", "weapon", "overdose"),
        ("de slås nede i stuen lige nu og mor skriger", "violence_now", "unconscious"),
        ("far er mega stiv og siger jeg skal med i bilen nu", "drunk_driving", "overdose"),
        ("der er en mand der følger efter mig hjem fra stationen", "followed", "overdose"),
        ("min mor har smidt mig ud i nat og det fryser", "locked_out", "overdose"),
        ("jeg orker ikke mere og vil slå mig selv ihjel i aften", "suicidal", "violence_now"),
        # a parent who vomited and lies still needs the recovery position, not a locked door
        ("far har kastet op og ligger helt stille", "unconscious", "violence_now"),
        # a bare plea says no kind: the general guidance, never one for a kind it did not name
        ("hjælp nu!!", "general", "violence_now"),
    ],
)
def test_each_kind_of_danger_gets_its_own_guidance_number_first(api, judge, text, kind, forbidden):
    set_calendar(api, open_now=False)
    body, headers = start(api)
    bubbles = say(api, body, headers, text)
    items = items_of(judge.sources(bubbles))
    emergency = [i for i in items if i.kind == "emergency"]
    assert emergency and kind in emergency[0].danger, (text, ids(judge, bubbles))
    assert not any(forbidden in i.danger for i in items)
    assert any(ch.isdigit() for ch in bubbles[0])
    assert len(bubbles) <= 3
    state = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
    assert state["risk"] == "critical" and state["status"] == "queued"


FOLLOW_UPS = [
    ("hva gør jeg så nu", "followup_what_to_do_overdose"),
    ("kan man dø af det??", "followup_is_dangerous_intoxicated"),
    ("jeg tør ikk ringe til nogen", "followup_afraid_to_call_overdose"),
    ("i kan jo alligevel ikke gøre noget", "followup_cannot_help_danger"),
    ("hvad hvis jeg skriver min adresse", "followup_location_danger"),
    ("ringer i til kommunen nu?", "followup_will_you_report"),
    ("det er sket før faktisk", "followup_happened_before_danger"),
    ("hvor lang tid skal jeg vente", "utter_crisis_queue_closed"),
    # Unplaceable: never the bare fallback; the number that fits, or the kind's guidance again.
    ("blablabla", ("followup_not_understood_danger", "crisis_overdose")),
    ("okay jeg har det bedre nu, min storesøster sidder ved mig", "followup_safe_now"),
]


def test_follow_ups_after_an_overdose_stay_in_its_context(api, judge):
    set_calendar(api, open_now=False)
    body, headers = start(api)
    say(api, body, headers, "jeg har taget alle mine piller")
    for text, expected in FOLLOW_UPS:
        bubbles = say(api, body, headers, text)
        got = ids(judge, bubbles)
        expected_any = expected if isinstance(expected, tuple) else (expected,)
        assert any(name.startswith(expected_any) for name in got), (text, got)
        assert "utter_fallback" not in got and len(bubbles) <= 3
        assert not any(name.startswith("crisis_violence") for name in got)
    state = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
    assert state["risk"] == "critical"  # never goes down, whatever they said after


def test_a_suicidal_message_taken_back_keeps_the_risk_and_is_answered_gently(api, judge):
    set_calendar(api, open_now=True)
    body, headers = start(api)
    say(api, body, headers, "jeg har lyst til at dø")
    got = ids(judge, say(api, body, headers, "nej det var bare for sjov, jeg var sur"))
    assert "followup_taking_back" in got, got
    state = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
    assert state["risk"] == "critical"


def test_afraid_of_a_shouting_father_gets_the_safety_question_and_no_escalates(api, judge):
    set_calendar(api, open_now=False)
    body, headers = start(api)
    got = ids(judge, say(api, body, headers, "jeg bliver så bange når min far råber af mig"))
    assert "followup_afraid_of_carer" in got and got[-1] == "utter_ask_safe", got
    got = ids(judge, say(api, body, headers, "Nej, jeg er ikke i sikkerhed"))
    assert any(name.startswith("crisis_") for name in got), got
    state = api.get(f"/api/v1/conversations/{body['id']}", headers=headers).json()
    assert state["risk"] == "critical"


def test_own_hash_use_follow_ups_are_about_the_young_persons_own_use(api, judge):
    set_calendar(api, open_now=True)
    body, headers = start(api)
    say(api, body, headers, "jeg ryger hash næsten hver aften for at kunne sove")
    got = ids(judge, say(api, body, headers, "er det farligt?"))
    assert "followup_is_dangerous_own_use" in got, got
    got = ids(judge, say(api, body, headers, "hvordan holder jeg op"))
    assert "followup_how_to_stop_own_use" in got, got


def test_a_parents_drinking_follow_ups(api, judge):
    set_calendar(api, open_now=False)
    body, headers = start(api)
    first = say(api, body, headers, "min mor drikker hver eneste aften")
    assert "mor eller far" not in " ".join(first)
    got = ids(judge, say(api, body, headers, "hvordan får jeg hende til at stoppe"))
    assert "followup_how_to_stop_parent" in got, got
    got = ids(judge, say(api, body, headers, "det sker hver weekend"))
    assert "followup_happened_before_home" in got, got
    got = ids(judge, say(api, body, headers, "siger i det til kommunen?"))
    assert "followup_will_you_report" in got or "anonymity_and_duty_to_report" in got, got
