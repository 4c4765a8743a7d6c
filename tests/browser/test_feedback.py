"""The young person's feedback and the counsellor's anonymous registration (issue #17), in the
real pages against the real stack: the form after a counsellor closes at 360 px (send -> thanks,
reload -> never again; skip -> never again), the one-question form after the bot's goodbye, and
the registration saved from the dashboard (and "Senere" first)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import (
    AXE_SCRIPT,
    LAPTOP,
    PHONE,
    counsellor_headers,
    login_counsellor,
    run_axe,
    start_chat,
)

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "shots"  # looked at by hand; artifacts/ has the rest
THANKS = "Tak for dit svar – det hjælper os med at gøre chatten bedre."
ANSWER = "Hej, jeg er her nu. Det er godt, at du skriver. Fortæl gerne, hvad der fylder."


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def no_axe_violations(page: Page, name: str) -> None:
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is missing; `bash scripts/setup_browser.sh` installs it")
    violations = run_axe(page, name)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


def no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    too_wide = page.evaluate(
        """(width) => [...document.querySelectorAll('#fb-panel, #fb-panel *')]
            .filter(el => el.getClientRects().length
                && el.getBoundingClientRect().right > width + 1)
            .map(el => el.id || el.className || el.tagName)""",
        width,
    )
    assert too_wide == [], f"wider than the screen: {too_wide}"


def conversation_of(page: Page) -> tuple[str, dict[str, str]]:
    stored = json.loads(page.evaluate("sessionStorage.getItem('chat.conversation')"))
    return stored["id"], {"Authorization": f"Bearer {stored['token']}"}


def talked_and_closed(page: Page, base_url: str, api: httpx.Client) -> tuple[str, dict]:
    """The young person on the phone asks for a counsellor, who answers and closes (API)."""
    start_chat(page, base_url)
    page.get_by_label("Skriv din besked").fill("min mor drikker hver aften")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#transcript .from-young:not(.pending)")).to_have_count(1)
    expect(page.locator("#typing")).to_be_hidden()
    if page.get_by_role("button", name="Skriv med en rådgiver").is_visible():
        page.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(page.locator("#status-text")).to_contain_text(re.compile(r"Du er nummer \d+ i køen"))
    expect(page.locator("#fb-panel")).to_be_hidden()
    conversation_id, young = conversation_of(page)
    staff = counsellor_headers(api)
    claimed = api.post("/api/v1/queue/claim", headers=staff)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["id"] == conversation_id
    replied = api.post(
        f"/api/v1/conversations/{conversation_id}/reply", json={"text": ANSWER}, headers=staff
    )
    assert replied.status_code in (200, 201), replied.text
    expect(page.locator("#transcript .from-counsellor")).to_have_count(1)
    # Not before the end: the form waits for the counsellor to close.
    expect(page.locator("#fb-panel")).to_be_hidden()
    closed = api.post(
        f"/api/v1/conversations/{conversation_id}/close", json={"outcome": "talked"}, headers=staff
    )
    assert closed.status_code == 200, closed.text
    expect(page.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    return conversation_id, young


def test_feedback_after_a_counsellor_closes_is_sent_once(contexts, base_url, api):
    page = contexts.new_page(PHONE, phone=True)
    conversation_id, young = talked_and_closed(page, base_url, api)

    panel = page.locator("#fb-panel")
    expect(panel.get_by_role("heading", name="Hvordan gik det?")).to_be_visible()
    for question in ("Fik du hjælp?", "Vil du skrive til os igen?", "Hvor godt var det?"):
        expect(panel.get_by_role("group", name=re.compile(re.escape(question)))).to_be_visible()
    assert panel.locator("textarea, input[type=text]").count() == 0  # no free text
    expect(panel.get_by_role("button", name="Send")).to_be_visible()
    expect(panel.get_by_role("button", name="Spring over")).to_be_visible()
    no_sideways_scrolling(page)
    shot(page, "feedback-01-form-360")
    shot(page, "feedback-01-form-360-full", full_page=True)
    no_axe_violations(page, "chat-feedback-form-360")

    # Sending nothing says what to do, in Danish.
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#fb-error")).to_have_text(
        "Vælg mindst ét svar – eller tryk „Spring over“."
    )

    # Keyboard: the first choice, then the arrow keys move within the group.
    helped = panel.get_by_role("group", name="Fik du hjælp?")
    helped.get_by_label("Ja").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")
    expect(helped.get_by_label("Lidt")).to_be_checked()
    panel.get_by_role("group", name="Vil du skrive til os igen?").get_by_label("Måske").check()
    panel.get_by_role("group", name=re.compile("Hvor godt var det")).get_by_label("4").check()
    shot(page, "feedback-02-chosen-360")
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#fb-thanks")).to_have_text(THANKS)
    expect(panel).to_be_hidden()
    shot(page, "feedback-03-thanks-360")
    view = api.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()
    assert view["feedback_given"] is True
    again = api.post(
        f"/api/v1/conversations/{conversation_id}/feedback", json={"helped": "ja"}, headers=young
    )
    assert again.status_code == 409, again.text

    # A reload (sessionStorage cleared of the skip list too) does not ask again.
    page.evaluate("sessionStorage.removeItem('chat.feedback.done')")
    page.reload()
    expect(page.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    page.wait_for_timeout(1000)
    expect(page.locator("#fb-panel")).to_be_hidden()


def test_feedback_can_be_skipped_and_is_not_asked_again(contexts, base_url, api):
    page = contexts.new_page(PHONE, phone=True)
    conversation_id, young = talked_and_closed(page, base_url, api)
    panel = page.locator("#fb-panel")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Spring over").click()
    expect(panel).to_be_hidden()
    expect(page.locator("#fb-thanks")).to_be_hidden()
    page.reload()
    expect(page.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    page.wait_for_timeout(1000)
    expect(panel).to_be_hidden()
    view = api.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()
    assert view["feedback_given"] is False  # skipping sends nothing


def test_a_bot_only_conversation_gets_one_question_after_goodbye(contexts, base_url, api):
    page = contexts.new_page(PHONE, phone=True)
    start_chat(page, base_url)
    expect(page.locator("#fb-panel")).to_be_hidden()
    page.get_by_label("Skriv din besked").fill("farvel")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#transcript .from-bot").last).to_contain_text("Pas godt på dig selv")
    panel = page.locator("#fb-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("group", name="Fik du hjælp?")).to_be_visible()
    expect(panel.get_by_role("group", name="Vil du skrive til os igen?")).to_be_hidden()
    expect(panel.get_by_role("group", name=re.compile("Hvor godt var det"))).to_be_hidden()
    # Ending is not asking for a counsellor: the status stays with the bot.
    expect(page.locator("#status-text")).to_contain_text("Du taler med vores chatbot")
    no_sideways_scrolling(page)
    shot(page, "feedback-04-bot-goodbye-360")
    panel.get_by_role("group", name="Fik du hjælp?").get_by_label("Ja").check()
    panel.get_by_role("button", name="Send").click()
    expect(page.locator("#fb-thanks")).to_have_text(THANKS)
    conversation_id, young = conversation_of(page)
    view = api.get(f"/api/v1/conversations/{conversation_id}", headers=young).json()
    assert view["feedback_given"] is True
    assert view["status"] == "bot"


@pytest.mark.parametrize(("size", "viewport"), (("1280", LAPTOP), ("360", PHONE)))
def test_the_counsellor_registers_a_closed_conversation(contexts, base_url, api, size, viewport):
    # A young person waits (API); the counsellor takes, answers and closes in the dashboard.
    created = api.post("/api/v1/conversations")
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]
    young = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (
        api.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young).status_code
        == 200
    )

    page = contexts.new_page(viewport, phone=viewport is PHONE)
    login_counsellor(page, base_url)
    page.get_by_role("button", name="Tag næste").click()
    page.get_by_label("Dit svar til den unge").fill(ANSWER)
    page.get_by_role("button", name="Send svar").click()
    expect(page.locator("#transcript .from-counsellor")).to_have_count(1)
    expect(page.locator("#registration")).to_be_hidden()
    page.get_by_role("button", name="Afslut samtale").click()

    section = page.locator("#registration")
    expect(section.get_by_role("heading", name="Registrering (anonym)")).to_be_visible()
    expect(section).to_contain_text("Ingen tekst eller navne gemmes – kun tal til statistik")
    assert section.locator("textarea, input[type=text]").count() == 0
    expect(section.locator("#reg-topic-choices input[type=checkbox]").first).to_be_visible()

    # "Senere" folds it; the same conversation can be registered afterwards.
    section.get_by_role("button", name="Senere").click()
    expect(section.locator("#registration-line")).to_have_text(
        "Samtalen er ikke registreret endnu."
    )
    section.get_by_role("button", name="Udfyld registrering").click()

    # Nothing chosen: told next to the topics, in Danish.
    section.get_by_role("button", name="Gem registrering").click()
    expect(page.locator("#reg-topics-error")).to_have_text("Vælg mellem 1 og 5 emner.")
    options = api.get("/api/v1/registration-options", headers=counsellor_headers(api)).json()
    boxes = section.locator("#reg-topic-choices input[type=checkbox]")
    assert boxes.count() == len(options["topics"])
    for index in range(5):
        boxes.nth(index).check()
    # Five at most: the rest are disabled until one is unticked.
    expect(boxes.nth(5)).to_be_disabled()
    for index in range(4, 1, -1):
        boxes.nth(index).uncheck()
    expect(boxes.nth(5)).to_be_enabled()
    page.get_by_label("Alder").select_option(options["age_bands"][1]["value"])
    page.get_by_label("Køn").select_option(options["genders"][0]["value"])
    page.get_by_label("Henvist videre").select_option(options["referrals"][2]["value"])
    shot(page, f"registration-01-form-{size}", full_page=True)
    no_axe_violations(page, f"registration-form-{size}")
    section.get_by_role("button", name="Gem registrering").click()
    expect(page.locator("#registration-ok")).to_have_text("Registreringen er gemt.")
    expect(section.locator("#registration-line")).to_contain_text("Registreret:")
    shot(page, f"registration-02-saved-{size}", full_page=True)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    saved = api.get(
        f"/api/v1/conversations/{conversation_id}/registration", headers=counsellor_headers(api)
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["topics"] == [options["topics"][0]["value"], options["topics"][1]["value"]]
    assert body["age_band"] == options["age_bands"][1]["value"]
    assert body["referral"] == options["referrals"][2]["value"]
