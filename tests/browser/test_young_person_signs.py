"""What a young person on a 360 px phone must see without looking for it (issue 10, points 3-6):
112 and 116 111 always on screen, the short code to come back with and the answer waiting on
return, the counsellor arriving and writing, and quick replies that send their own words."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import (
    AXE_SCRIPT,
    LAPTOP,
    PHONE,
    counsellor_headers,
    login_counsellor,
    run_axe,
    shoot,
    start_chat,
)

pytestmark = pytest.mark.browser

CODE = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{2}")
WRITING = "jeg sidder på mit værelse"
ANSWER = "Hej, jeg har læst det, du skrev. Det er godt, at du skrev til os. Du er velkommen igen."


def no_axe_violations(page: Page, name: str) -> None:
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is missing; `bash scripts/setup_browser.sh` installs it")
    violations = run_axe(page, name)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


def on_screen_without_scrolling(page: Page, name: str, href: str) -> None:
    """The link's whole box is inside the viewport and nothing covers its middle."""
    link = page.get_by_role("link", name=name).first
    expect(link).to_have_attribute("href", href)
    box = link.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert box is not None, name
    assert box["x"] >= 0 and box["y"] >= 0, (name, box)
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (name, box)
    assert box["height"] >= 44, (name, box)  # big enough to tap
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('a')?.getAttribute('href')",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == href, (name, on_top)


def both_lines_on_screen(page: Page) -> None:
    on_screen_without_scrolling(page, "Akut fare? Ring 112", "tel:112")
    on_screen_without_scrolling(page, "Under 18? Ring 116 111", "tel:116111")


def hand_off(page: Page) -> None:
    page.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(page.locator("#status-text")).to_contain_text(re.compile(r"Du er nummer \d+ i køen"))


def test_112_and_116_111_are_on_screen_at_360_px_in_every_state(contexts, base_url, api):
    phone = contexts.new_page(PHONE, phone=True)
    phone.goto(f"{base_url}/")
    expect(phone.locator("#service-status")).not_to_be_empty()
    both_lines_on_screen(phone)
    shoot(phone, "signs-01-welcome-360")

    start_chat(phone, base_url)
    both_lines_on_screen(phone)
    for number in range(4):  # a long conversation scrolls its transcript, never the numbers away
        phone.get_by_label("Skriv din besked").fill(f"min far drikker igen, besked {number}")
        phone.get_by_role("button", name="Send").click()
        expect(phone.locator("#transcript .from-young:not(.pending)")).to_have_count(number + 1)
        expect(phone.locator("#typing")).to_be_hidden()
    phone.locator("#transcript-region").evaluate("region => region.scrollTo(0, 0)")
    both_lines_on_screen(phone)
    if phone.get_by_role("button", name="Skriv med en rådgiver").is_visible():
        hand_off(phone)
    expect(phone.get_by_role("heading", name="Gem din kode")).to_be_visible()
    both_lines_on_screen(phone)
    shoot(phone, "signs-02-queued-with-code-360")

    # The panel lists every approved line, Giftlinjen too, with its hours and whether it is open.
    numbers = api.get("/api/v1/emergency-numbers").json()
    assert "giftlinjen" in {n["id"] for n in numbers}
    phone.get_by_role("button", name="Nødnumre").click()
    panel = phone.locator("#emergency-list")
    items = panel.locator(".emergency-item")
    expect(items).to_have_count(len(numbers))
    for index, number in enumerate(numbers):
        item = items.nth(index)
        expect(item.get_by_role("link", name=f"Ring {number['number']}")).to_have_attribute(
            "href", f"tel:{number['tel']}"
        )
        expect(item).to_contain_text(number["name"])
        expect(item).to_contain_text(number["hours"])
        if number["open_now"] is True:
            expect(item.locator(".open-now")).to_have_text("Åben nu")
        elif number["open_now"] is False:
            expect(item.locator(".open-now")).to_have_text(
                f"Lukket – {number['opens_text']}" if number["opens_text"] else "Lukket lige nu"
            )
    expect(panel.get_by_text("Giftlinjen", exact=True)).to_be_visible()
    both_lines_on_screen(phone)
    shoot(phone, "signs-03-emergency-panel-open-now-360")
    no_axe_violations(phone, "signs-emergency-panel")

    laptop = contexts.new_page(LAPTOP)
    laptop.goto(f"{base_url}/")
    both_lines_on_screen(laptop)


def test_pickup_by_short_code_opens_at_the_newest_message_and_announces_the_answer(
    contexts, base_url, api, empty_queue
):
    young = contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    young.get_by_label("Skriv din besked").fill("jeg tør ikke sige det til nogen")
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#transcript .from-young:not(.pending)")).to_have_count(1)
    expect(young.locator("#typing")).to_be_hidden()  # the bot has answered
    if young.get_by_role("button", name="Skriv med en rådgiver").is_visible():
        hand_off(young)
    # Handed off: the code is shown at once, large, with a copy button and the way back.
    expect(young.get_by_role("heading", name="Gem din kode")).to_be_visible()
    code = young.get_by_label("Kode", exact=True).input_value()
    assert CODE.fullmatch(code), code
    expect(young.locator("#code-how")).to_contain_text("Har du en kode?")
    assert (
        young.locator("#code-value").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 20
    )
    young.get_by_role("button", name="Kopiér").click()
    expect(young.locator("#code-feedback")).to_contain_text(
        re.compile("gem den et sikkert sted", re.IGNORECASE)
    )
    both_lines_on_screen(young)
    no_axe_violations(young, "signs-code-box")
    shoot(young, "signs-04-save-your-code-360")
    young.context.close()  # the tab is gone, and its sessionStorage with it

    # A counsellor answers while the young person is away.
    headers = counsellor_headers(api)
    claimed = api.post("/api/v1/queue/claim", headers=headers)
    assert claimed.status_code == 200, claimed.text
    conversation_id = claimed.json()["id"]
    for text in ("Jeg er her nu.", ANSWER):
        api.post(
            f"/api/v1/conversations/{conversation_id}/reply",
            json={"text": text, "leave_for_later": text == ANSWER},
            headers=headers,
        ).raise_for_status()

    later = contexts.new_page(PHONE, phone=True)  # a fresh browser context: another phone
    later.goto(f"{base_url}/")
    later.get_by_text("Har du en kode?", exact=True).click()
    box = later.get_by_label("Din kode", exact=True)
    box.fill("K7QM-3XPD-9T")
    later.get_by_role("button", name="Fortsæt samtalen").click()
    expect(later.locator("#resume-error")).to_contain_text("kan ikke finde en samtale")
    # Typed as people type: small letters, spaces instead of dashes.
    box.fill(code.lower().replace("-", " "))
    later.get_by_role("button", name="Fortsæt samtalen").click()
    newest = later.locator("#transcript li[data-id]").last
    expect(newest).to_contain_text(ANSWER)
    expect(newest).to_be_in_viewport()
    notice = later.locator("#notice")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_have_text(re.compile("Du har fået svar fra en rådgiver"))
    expect(notice).to_be_in_viewport()
    expect(later.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    both_lines_on_screen(later)
    no_axe_violations(later, "signs-answer-waiting")
    shoot(later, "signs-05-back-with-code-answer-waiting-360")
    later.reload()  # the existing way back, in the same tab: the same place, the same words
    expect(later.locator("#transcript li[data-id]").last).to_be_in_viewport()
    expect(later.locator("#notice")).to_contain_text("Du har fået svar fra en rådgiver")

    laptop = contexts.new_page(LAPTOP)
    laptop.goto(f"{base_url}/")
    laptop.get_by_text("Har du en kode?", exact=True).click()
    laptop.get_by_label("Din kode", exact=True).fill(code.replace("-", ""))
    laptop.get_by_role("button", name="Fortsæt samtalen").click()
    expect(laptop.locator("#notice")).to_contain_text("Du har fået svar fra en rådgiver")
    expect(laptop.locator("#transcript li[data-id]").last).to_be_in_viewport()
    shoot(laptop, "signs-06-back-with-code-answer-waiting-1280")
    # The phone before it held the old token: it is told the conversation moved, and forgets it.
    expect(later.locator("#service-status")).to_contain_text("åbnet med koden et andet sted")
    assert later.evaluate("sessionStorage.length") == 0


def test_the_young_person_sees_the_counsellor_take_it_and_write_and_is_seen_writing(
    contexts, base_url, empty_queue
):
    young = contexts.new_page(PHONE, phone=True)
    # Count the soft tones (headless Chromium has no speakers) and let the test hide the tab.
    young.add_init_script(
        """(() => {
          window.__tones = 0;
          const create = AudioContext.prototype.createOscillator;
          AudioContext.prototype.createOscillator = function () {
            window.__tones += 1;
            return create.call(this);
          };
          window.__hidden = false;
          Object.defineProperty(document, 'hidden', { get: () => window.__hidden });
        })()"""
    )
    start_chat(young, base_url)
    hand_off(young)
    young.get_by_role("button", name="Luk", exact=True).click()
    expect(young.get_by_role("heading", name="Gem din kode")).to_be_hidden()

    counsellor = contexts.new_page(LAPTOP)
    login_counsellor(counsellor, base_url)
    counsellor.get_by_role("button", name="Tag næste").click()
    expect(counsellor.locator("#conv-state")).to_contain_text("Du har samtalen")

    joined = young.locator("#transcript .system-line")
    expect(joined).to_contain_text("En rådgiver har taget din samtale")
    expect(young.locator("#status-text")).to_have_text("Du skriver med en rådgiver")

    counsellor.get_by_label("Dit svar til den unge").press_sequentially("Hej, jeg hedder", delay=20)
    sign = young.locator("#live-sign")
    expect(sign).to_have_attribute("role", "status")
    expect(sign).to_contain_text("Rådgiveren skriver")
    both_lines_on_screen(young)
    no_axe_violations(young, "signs-counsellor-writing")
    shoot(young, "signs-07-counsellor-took-it-and-writes-360")
    # Nothing of what the counsellor has not sent reaches the young person's page.
    assert "Hej, jeg hedder" not in young.locator("body").inner_text()
    expect(sign).to_be_empty(timeout=10_000)  # fades after about 6 s without a new signal

    young.get_by_label("Skriv din besked").press_sequentially(WRITING, delay=20)
    expect(counsellor.locator("#young-typing")).to_contain_text("Den unge skriver")
    assert WRITING not in counsellor.locator("#transcript").inner_text()
    shoot(counsellor, "signs-08-dashboard-young-person-writes-1280")
    young.get_by_role("button", name="Send").click()
    expect(counsellor.locator("#transcript .from-young").last).to_contain_text(WRITING)
    expect(counsellor.locator("#young-typing")).to_be_empty()

    # An answer while the tab is hidden: "(1) Nyt svar" in the tab, and a soft tone if wanted.
    young.get_by_role("button", name="Lyd ved svar").click()
    expect(young.get_by_role("button", name="Lyd ved svar")).to_have_attribute(
        "aria-pressed", "true"
    )
    young.evaluate("window.__hidden = true")
    counsellor.get_by_label("Dit svar til den unge").fill("Hej, jeg hedder Maja. Hvordan går det?")
    counsellor.get_by_role("button", name="Send svar").click()
    expect(young.locator("#transcript .from-counsellor")).to_contain_text("Hvordan går det?")
    expect(sign).to_be_empty()  # the answer replaces "is writing"
    expect(young).to_have_title("(1) Nyt svar")
    assert young.evaluate("window.__tones") == 1
    young.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    expect(young).to_have_title("Chat – skriv anonymt med en rådgiver")


def test_quick_replies_send_their_own_words(contexts, base_url, empty_queue):
    young = contexts.new_page(PHONE, phone=True)
    sent: list[dict] = []
    young.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.method == "POST" and request.url.endswith("/messages")
            else None
        ),
    )
    start_chat(young, base_url)
    # The real bot offers a counsellor with two quick replies after a topic.
    young.get_by_label("Skriv din besked").fill("min mor drikker hver aften og det er så hårdt")
    young.get_by_role("button", name="Send").click()
    group = young.get_by_role("group", name="Svarforslag")
    expect(group).to_have_count(1, timeout=60_000)  # only the newest bot message's buttons
    expect(group.get_by_role("button")).to_have_text(["Ja, sæt mig i kø", "Nej, ikke nu"])
    newest_bot = young.locator("#transcript .from-bot").last
    expect(newest_bot).to_contain_text("rådgiver")
    assert (
        group.bounding_box()["y"]
        >= newest_bot.bounding_box()["y"] + newest_bot.bounding_box()["height"] - 1
    )  # under it
    both_lines_on_screen(young)
    no_axe_violations(young, "signs-quick-replies")
    shoot(young, "signs-09-quick-replies-360")

    young.get_by_label("Skriv din besked").fill("et udkast")
    group.get_by_role("button", name="Ja, sæt mig i kø").click()
    expect(young.locator("#transcript .from-young").last).to_contain_text("Ja, sæt mig i kø")
    assert sent[-1] == {"text": "Ja, sæt mig i kø"}  # the title, exactly as if typed
    # ... and the bot heard it as the yes it is: the young person is queued.
    expect(young.locator("#status-text")).to_contain_text(
        re.compile(r"Du er nummer \d+ i køen"), timeout=60_000
    )
    expect(young.get_by_label("Skriv din besked")).to_have_value("et udkast")  # draft kept
    expect(young.get_by_role("button", name="Send")).to_be_enabled()
    # Answered: the buttons are gone (the hand-off asks no new choice).
    expect(young.get_by_role("group", name="Svarforslag")).to_have_count(0)
