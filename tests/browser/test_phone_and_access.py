"""A 360 px phone, the keyboard alone, and axe-core: both pages work for everyone."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import (
    AXE_REPORTS,
    AXE_SCRIPT,
    LAPTOP,
    PHONE,
    login_counsellor,
    run_axe,
    shoot,
    start_chat,
)

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


def no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    overflowing = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => el.getClientRects().length
                && el.getBoundingClientRect().right > width + 1)
            .map(el => el.id || el.className || el.tagName)""",
        width,
    )
    assert overflowing == [], f"wider than the screen: {overflowing}"


def big_enough_to_tap(page: Page, name: str, role: str = "button") -> None:
    box = page.get_by_role(role, name=name).bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, (name, box)


def test_chat_on_a_360_px_phone(contexts, base_url):
    phone = contexts.new_page(PHONE, phone=True)
    phone.goto(f"{base_url}/")
    expect(phone.get_by_role("button", name="Start chatten")).to_be_in_viewport()
    expect(phone.get_by_role("button", name="Forlad siden hurtigt")).to_be_in_viewport()
    expect(phone.get_by_role("link", name="Akut fare? Ring 112")).to_be_in_viewport()
    expect(phone.get_by_role("link", name="Akut fare? Ring 112")).to_have_attribute(
        "href", "tel:112"
    )
    big_enough_to_tap(phone, "Forlad siden hurtigt")
    big_enough_to_tap(phone, "Akut fare? Ring 112", role="link")
    big_enough_to_tap(phone, "Start chatten")
    no_sideways_scrolling(phone)
    shoot(phone, "phone-01-welcome-360")

    start_chat(phone, base_url)
    long_word = "hvorfor" * 40  # one unbroken 280-character word must wrap, not widen the page
    phone.get_by_label("Skriv din besked").fill(f"{long_word} min far drikker")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("#transcript .from-young")).to_have_count(1)
    expect(phone.locator("#typing")).to_be_hidden()
    for name in ("Send", "Forlad siden hurtigt"):
        expect(phone.get_by_role("button", name=name)).to_be_in_viewport()
        big_enough_to_tap(phone, name)
    expect(phone.get_by_label("Skriv din besked")).to_be_in_viewport()
    expect(phone.get_by_role("link", name="Akut fare? Ring 112")).to_be_in_viewport()
    no_sideways_scrolling(phone)
    shoot(phone, "phone-02-conversation-360")

    # Every number one tap from the bar, each a tel: link.
    phone.get_by_role("button", name="Nødnumre").click()
    calls = phone.locator("#emergency-list a[href^='tel:']")
    expect(calls).not_to_have_count(0)
    expect(
        phone.locator("#emergency-list").get_by_role("link", name="Ring 116 111")
    ).to_have_attribute("href", "tel:116111")
    no_sideways_scrolling(phone)
    shoot(phone, "phone-03-emergency-numbers-360")


def test_chat_can_be_used_with_the_keyboard_alone(contexts, base_url):
    page = contexts.new_page(LAPTOP)
    page.goto(f"{base_url}/")
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    # The way out and the emergency numbers come first, then starting the chat.
    assert order == [
        "Forlad siden hurtigt",
        "Akut fare? Ring 112",
        "Under 18? Ring 116 111",
        "Nødnumre",
        "Start chatten",
    ], order
    page.keyboard.press("Enter")
    expect(page.locator("#transcript .from-bot").first).to_be_visible()
    expect(page.get_by_label("Skriv din besked")).to_be_focused()
    page.keyboard.type("min far drikker")
    page.keyboard.press("Enter")
    expect(page.locator("#transcript .from-young")).to_have_count(1)
    expect(page.get_by_label("Skriv din besked")).to_be_focused()
    # New messages are announced: the transcript is a polite live log.
    transcript = page.locator("#transcript-region")
    expect(transcript).to_have_attribute("role", "log")
    expect(transcript).to_have_attribute("aria-live", "polite")
    expect(page.locator("#status-text")).to_have_attribute("role", "status")


def test_no_serious_accessibility_violations_on_either_page(contexts, base_url, api, empty_queue):
    if not AXE_SCRIPT.exists():
        pytest.fail(
            "axe-core is missing; `bash scripts/setup_browser.sh` installs it into build/npm"
        )
    found: dict[str, list[dict]] = {}

    phone = contexts.new_page(PHONE, phone=True)
    phone.goto(f"{base_url}/")
    expect(phone.locator("#service-status")).not_to_be_empty()
    found["chat-welcome"] = run_axe(phone, "chat-welcome")
    start_chat(phone, base_url)
    phone.get_by_label("Skriv din besked").fill("min far drikker og jeg er ked af det")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("#transcript .from-young")).to_have_count(1)
    expect(phone.locator("#typing")).to_be_hidden()
    phone.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(phone.locator("#status-text")).to_contain_text("i køen")
    phone.get_by_role("button", name="Nødnumre").click()
    expect(phone.get_by_role("heading", name="Gem din kode")).to_be_visible()  # shown on handoff
    found["chat-conversation"] = run_axe(phone, "chat-conversation")

    laptop = contexts.new_page(LAPTOP)
    laptop.goto(f"{base_url}/counsellor")
    found["dashboard-login"] = run_axe(laptop, "dashboard-login")
    login_counsellor(laptop, base_url)
    expect(laptop.locator("#queue .queue-item")).to_have_count(1)
    found["dashboard-queue"] = run_axe(laptop, "dashboard-queue")
    laptop.get_by_role("button", name="Tag næste").click()
    expect(laptop.locator("#transcript .from-young")).to_have_count(1)
    laptop.get_by_role("button", name="Markér: anonymiteten er brudt").click()
    expect(laptop.get_by_role("button", name="Ja, markér")).to_be_focused()
    found["dashboard-conversation"] = run_axe(laptop, "dashboard-conversation")
    laptop.get_by_role("button", name="Ja, markér").click()
    expect(laptop.locator("#anonymity-state")).to_contain_text("Anonymiteten er markeret som brudt")
    found["dashboard-anonymity-broken"] = run_axe(laptop, "dashboard-anonymity-broken")
    shoot(laptop, "dashboard-05-anonymity-broken", full_page=True)

    by_impact = Counter(v["impact"] for violations in found.values() for v in violations)
    (AXE_REPORTS / "summary.json").write_text(json.dumps(dict(by_impact), indent=2))
    blocking = {
        page: [
            f"{v['id']} ({v['impact']}): {v['help']} {v['targets']}"
            for v in violations
            if v["impact"] in BLOCKING
        ]
        for page, violations in found.items()
    }
    assert all(not problems for problems in blocking.values()), blocking
