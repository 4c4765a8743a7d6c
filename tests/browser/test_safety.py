"""What keeps people safe: markup stays text, the quick exit leaves no trace, errors stay human."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.utils.browser import (
    LAPTOP,
    NEUTRAL_SITE,
    PHONE,
    counsellor_headers,
    kill_service,
    login_counsellor,
    shoot,
    start_chat,
    start_service_again,
)

pytestmark = pytest.mark.browser

IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
SCRIPT_PAYLOAD = "<script>alert(2)</script>"
# Marks the window if any of it ever runs, for when a dialog would be swallowed.
SNEAKY_PAYLOAD = '<svg onload="window.__owned=1"></svg><b id="injected">fed</b>'


def test_markup_written_by_a_young_person_is_shown_as_text_and_never_runs(
    contexts, base_url, empty_queue
):
    young = contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    for payload in (IMG_PAYLOAD, SCRIPT_PAYLOAD, SNEAKY_PAYLOAD):
        sent = young.locator("#transcript .from-young").count()
        young.get_by_label("Skriv din besked").fill(payload)
        young.get_by_role("button", name="Send").click()
        expect(young.locator("#transcript .from-young")).to_have_count(sent + 1)
        expect(young.get_by_role("button", name="Send")).to_be_enabled()
    ask_for_counsellor = young.get_by_role("button", name="Skriv med en rådgiver")
    if ask_for_counsellor.is_visible():  # the bot may already have queued it
        ask_for_counsellor.click()
    expect(young.locator("#status-text")).to_contain_text(re.compile("i køen|rådgiver"))

    counsellor = contexts.new_page(LAPTOP)
    login_counsellor(counsellor, base_url)
    counsellor.get_by_role("button", name="Tag næste").click()
    young_lines = counsellor.locator("#transcript .from-young .message-text")
    expect(young_lines).to_have_count(3)
    assert young_lines.all_text_contents() == [IMG_PAYLOAD, SCRIPT_PAYLOAD, SNEAKY_PAYLOAD]
    shoot(counsellor, "dashboard-04-markup-shown-as-text", full_page=True)

    for page in (counsellor, young):
        for selector in ("img", "script", "svg", "#injected", "b"):
            assert page.locator(f"#transcript {selector}").count() == 0, (
                f"{selector} was rendered as HTML"
            )
        assert page.evaluate("window.__owned === undefined")
    assert young.locator("#transcript .from-young .bubble-text").all_text_contents() == [
        IMG_PAYLOAD,
        SCRIPT_PAYLOAD,
        SNEAKY_PAYLOAD,
    ]
    counsellor.wait_for_timeout(500)  # give an onerror handler the chance it must not get
    assert contexts.dialogs == [], contexts.dialogs


def test_quick_exit_replaces_the_page_and_forgets_the_conversation(contexts, base_url):
    young = contexts.new_page(PHONE, phone=True)
    young.goto(f"{base_url}/")
    start_chat(young, base_url)
    young.get_by_label("Skriv din besked").fill("min mor er fuld igen")
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#transcript .from-young")).to_have_count(1)
    # Even the young person who chose to be remembered on this device is forgotten.
    if young.locator("#code-panel").is_hidden():  # shown by itself if the bot handed it off
        young.get_by_role("button", name="Gem min kode").click()
    young.get_by_text("Husk samtalen på denne enhed?").click()
    young.get_by_role("button", name="Husk samtalen på denne enhed", exact=True).click()
    assert (
        young.evaluate("localStorage.length") == 1 and young.evaluate("sessionStorage.length") == 1
    )
    history_before = young.evaluate("history.length")

    exit_button = young.get_by_role("button", name="Forlad siden hurtigt")
    expect(exit_button).to_be_in_viewport()
    exit_button.click()
    young.wait_for_url(NEUTRAL_SITE)
    expect(young.get_by_role("heading", name="Nyheder")).to_be_visible()
    shoot(young, "chat-09-after-quick-exit")
    assert contexts.neutral_visits == [NEUTRAL_SITE]
    # The chat's history entry was replaced, not added to: "back" does not bring it back.
    assert young.evaluate("history.length") == history_before
    young.go_back()
    assert not young.url.startswith(base_url), young.url

    # Same tab, back on the chat's address: nothing of the conversation is left.
    young.goto(f"{base_url}/")
    expect(young.get_by_role("button", name="Start chatten")).to_be_visible()
    expect(young.locator("#transcript li")).to_have_count(0)
    assert young.evaluate("sessionStorage.length") == 0
    assert young.evaluate("localStorage.length") == 0
    assert young.context.cookies() == []


def test_errors_are_plain_danish_unsent_text_stays_and_the_stream_comes_back_by_itself(
    contexts, base_url, api, live_stack, empty_queue
):
    young = contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    box = young.get_by_label("Skriv din besked")

    too_long = "jeg har så meget at sige " * 90  # 2250 characters
    box.fill(too_long)
    expect(young.locator("#char-count")).to_contain_text("af højst 2000 tegn")
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#composer-error")).to_contain_text("Beskeden er for lang")
    expect(box).to_have_value(too_long)
    expect(young.locator("#transcript .from-young")).to_have_count(0)
    shoot(young, "chat-10-message-too-long")

    young.context.set_offline(True)
    expect(young.locator("#connection")).to_contain_text("ingen internetforbindelse")
    box.fill("er der nogen?")
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#composer-error")).to_contain_text("fordi der ikke er forbindelse")
    expect(box).to_have_value("er der nogen?")
    expect(young.locator("#transcript .from-young")).to_have_count(0)
    shoot(young, "chat-11-no-connection")
    young.context.set_offline(False)
    expect(young.locator("#connection")).to_be_empty()
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#transcript .from-young")).to_have_count(1)
    expect(box).to_have_value("")
    page_text = young.locator("body").inner_text()
    assert "Traceback" not in page_text and "Error" not in page_text

    young.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(young.locator("#status-text")).to_contain_text("Du er nummer 1 i køen")
    young.evaluate("window.__sameDocument = true")

    # The service dies and comes back: the page notices, says so, and reconnects by itself.
    kill_service(live_stack)
    expect(young.locator("#connection")).to_contain_text("Forbindelsen er afbrudt")
    shoot(young, "chat-12-connection-lost")
    start_service_again(live_stack)
    expect(young.locator("#connection")).to_be_empty()
    headers = counsellor_headers(api)
    claimed = api.post("/api/v1/queue/claim", headers=headers)
    assert claimed.status_code == 200, claimed.text
    expect(young.locator("#status-text")).to_have_text("Du skriver med en rådgiver")
    api.post(
        f"/api/v1/conversations/{claimed.json()['id']}/reply",
        json={"text": "Hej, jeg er her nu."},
        headers=headers,
    ).raise_for_status()
    expect(young.locator("#transcript .from-counsellor")).to_contain_text("Hej, jeg er her nu.")
    assert young.evaluate("window.__sameDocument === true")
