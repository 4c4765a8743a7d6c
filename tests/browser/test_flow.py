"""The whole handoff as both people see it: a young person on a phone, a counsellor on a laptop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.utils.browser import LAPTOP, PHONE, login_counsellor, shoot, start_chat

pytestmark = pytest.mark.browser

YOUNG_TEXT = "min far drikker hver aften og jeg kan ikke sove"
REPLY_TEXT = (
    "Hej, jeg hedder Maja og er rådgiver. Tak fordi du skriver. Hvordan har du det i aften?"
)
ANSWER_TEXT = "det er rart at skrive med et rigtigt menneske"


def test_young_person_queues_sees_position_live_and_gets_the_counsellors_reply(
    contexts, base_url, api, empty_queue
):
    # Somebody else is already waiting, so the young person starts as number 2.
    other = api.post("/api/v1/conversations").json()
    other_headers = {"Authorization": f"Bearer {other['token']}"}
    assert (
        api.post(f"/api/v1/conversations/{other['id']}/handoff", headers=other_headers).json()[
            "status"
        ]
        == "queued"
    )

    young = contexts.new_page(PHONE, phone=True)
    young.goto(f"{base_url}/")
    expect(young.get_by_role("heading", name="Skriv anonymt med os")).to_be_visible()
    shoot(young, "chat-01-welcome")
    start_chat(young, base_url)
    expect(young.locator("#status-text")).to_have_text("Du taler med vores chatbot")
    expect(young.locator("#transcript .from-bot").first).to_contain_text("anonym")
    # Nothing below may reload the page: this marker would be gone.
    young.evaluate("window.__sameDocument = true")
    # Record whether the typing indicator shows while the bot thinks (it is brief).
    young.evaluate(
        """() => {
          const typing = document.getElementById('typing');
          new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, { attributes: true, attributeFilter: ['hidden'] });
        }"""
    )
    bot_bubbles_before = young.locator("#transcript .from-bot").count()
    young.get_by_label("Skriv din besked").fill(YOUNG_TEXT)
    young.get_by_label("Skriv din besked").press("Enter")
    expect(young.locator("#transcript .from-young")).to_have_text(re.compile(re.escape(YOUNG_TEXT)))
    expect(young.locator("#transcript .from-bot")).not_to_have_count(bot_bubbles_before)
    expect(young.locator("#typing")).to_be_hidden()
    assert young.evaluate("window.__typingSeen === true"), (
        "no typing indicator while the bot answered"
    )
    expect(young.get_by_label("Skriv din besked")).to_have_value("")
    shoot(young, "chat-02-bot-answers")

    young.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(young.locator("#status-text")).to_contain_text("Du er nummer 2 i køen")
    queue_words = young.locator("#status-text").inner_text()
    assert "ventetid ca." in queue_words or "– næste vagt" in queue_words, queue_words
    expect(young.get_by_role("button", name="Skriv med en rådgiver")).to_be_hidden()
    shoot(young, "chat-03-queued-number-2")

    counsellor = contexts.new_page(LAPTOP)
    login_counsellor(counsellor, base_url)
    queue_items = counsellor.locator("#queue .queue-item")
    expect(queue_items).to_have_count(2)
    expect(counsellor).to_have_title(re.compile(r"^\(2\) Rådgiverpanel"))
    second = queue_items.nth(1)
    expect(second.locator(".risk")).to_have_text("Almindelig")
    expect(second).to_contain_text("Venter:")
    expect(second.locator(".queue-summary")).not_to_be_empty()
    shoot(counsellor, "dashboard-01-queue")

    # The counsellor takes the first in line: the young person moves up, live.
    counsellor.get_by_role("button", name="Tag næste").click()
    expect(counsellor.locator("#conv-state")).to_contain_text("Du har samtalen")
    expect(young.locator("#status-text")).to_contain_text("Du er nummer 1 i køen")
    expect(queue_items).to_have_count(1)
    shoot(young, "chat-04-moved-up-to-number-1")
    counsellor.get_by_label("Udfald").select_option("no_response")
    counsellor.get_by_role("button", name="Afslut samtale").click()
    expect(counsellor.locator("#conv-state")).to_contain_text(
        "Samtalen er afsluttet (den unge svarede ikke)"
    )

    # Next in line is our young person, with everything the bot already learned.
    counsellor.get_by_role("button", name="Tag næste").click()
    transcript = counsellor.locator("#transcript")
    expect(transcript.locator(".from-young").first).to_have_text(re.compile(re.escape(YOUNG_TEXT)))
    expect(transcript.locator(".from-young .sender").first).to_have_text("Ung")
    expect(transcript.locator(".from-bot .sender").first).to_have_text("Chatbot")
    expect(counsellor.locator("#conv-summary")).to_contain_text("Almindelig")
    expect(counsellor.locator("#conv-reasons")).to_contain_text(
        "Den unge trykkede „Skriv med en rådgiver“"
    )
    expect(queue_items).to_have_count(0)
    expect(counsellor).to_have_title("Rådgiverpanel")
    expect(young.locator("#status-text")).to_have_text("Du skriver med en rådgiver")
    shoot(counsellor, "dashboard-02-conversation-claimed", full_page=True)

    counsellor.get_by_label("Dit svar til den unge").fill(REPLY_TEXT)
    counsellor.get_by_role("button", name="Send svar").click()
    expect(transcript.locator(".from-counsellor")).to_contain_text(REPLY_TEXT)
    expect(counsellor.get_by_label("Dit svar til den unge")).to_have_value("")
    reply_bubble = young.locator("#transcript .from-counsellor")
    expect(reply_bubble).to_contain_text(REPLY_TEXT)
    expect(reply_bubble.locator(".sender")).to_have_text("Rådgiver")
    shoot(young, "chat-05-counsellor-replied")

    young.get_by_label("Skriv din besked").fill(ANSWER_TEXT)
    young.get_by_role("button", name="Send").click()
    expect(transcript.locator(".from-young").last).to_contain_text(ANSWER_TEXT)
    # A live conversation: no bot answer, no typing indicator.
    expect(young.locator("#typing")).to_be_hidden()
    shoot(counsellor, "dashboard-03-live-conversation", full_page=True)

    counsellor.get_by_label("Udfald").select_option("talked")
    counsellor.get_by_role("button", name="Afslut samtale").click()
    expect(counsellor.locator("#conv-state")).to_contain_text(
        "Samtalen er afsluttet (samtale gennemført)"
    )
    expect(counsellor.get_by_label("Dit svar til den unge")).to_be_disabled()
    expect(young.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    shoot(young, "chat-06-closed")

    assert young.evaluate("window.__sameDocument === true"), "the young person's page reloaded"
    # Each message exactly once, though it came both as an answer and on the live stream.
    ids = young.locator("#transcript li").evaluate_all("items => items.map(li => li.dataset.id)")
    assert len(ids) == len(set(ids)), ids
    assert contexts.dialogs == []


def test_answer_left_for_later_is_read_when_the_young_person_comes_back_with_the_code(
    contexts, base_url, empty_queue
):
    young = contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    young.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(young.locator("#status-text")).to_contain_text("i køen")
    # Handed off: the page shows the short code to come back with at once.
    expect(young.get_by_role("heading", name="Gem din kode")).to_be_visible()
    code = young.get_by_label("Kode", exact=True).input_value()
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{2}", code)
    shoot(young, "chat-07-save-code")
    young.context.close()  # the tab is gone; sessionStorage with it

    counsellor = contexts.new_page(LAPTOP)
    login_counsellor(counsellor, base_url)
    counsellor.get_by_role("button", name="Tag næste").click()
    counsellor.get_by_label("Dit svar til den unge").fill(
        "Jeg svarer dig her, når du kommer tilbage. Du er velkommen igen."
    )
    counsellor.get_by_role("button", name="Efterlad svar til senere").click()
    expect(counsellor.locator("#conv-state")).to_contain_text("svar efterladt til senere")

    later = contexts.new_page(PHONE, phone=True)
    later.goto(f"{base_url}/")
    expect(later.get_by_role("button", name="Start chatten")).to_be_visible()  # a new tab forgot it
    later.get_by_text("Har du en kode?", exact=True).click()
    later.get_by_label("Din kode", exact=True).fill("K7QM-3XPD-9T")  # well formed, nobody's
    later.get_by_role("button", name="Fortsæt samtalen").click()
    expect(later.locator("#resume-error")).to_contain_text("kan ikke finde en samtale")
    later.get_by_label("Din kode", exact=True).fill(code)
    later.get_by_role("button", name="Fortsæt samtalen").click()
    expect(later.locator("#transcript .from-counsellor")).to_contain_text("Jeg svarer dig her")
    expect(later.locator("#status-text")).to_contain_text("Samtalen er afsluttet")
    expect(later.locator("#notice")).to_contain_text("Du har fået svar fra en rådgiver")
    shoot(later, "chat-08-answer-read-later")


def test_new_handoffs_announce_themselves_and_critical_ones_louder(
    contexts, base_url, api, empty_queue
):
    counsellor = contexts.new_page(LAPTOP)
    # Count the tones the page plays (headless Chromium has no speakers to listen to).
    counsellor.add_init_script(
        """(() => {
          window.__tones = 0;
          const create = AudioContext.prototype.createOscillator;
          AudioContext.prototype.createOscillator = function () {
            window.__tones += 1;
            return create.call(this);
          };
        })()"""
    )
    login_counsellor(counsellor, base_url)
    expect(counsellor.locator("#queue-empty")).to_be_visible()
    expect(counsellor).to_have_title("Rådgiverpanel")
    expect(counsellor.get_by_role("button", name="Tag næste")).to_be_disabled()

    first = api.post("/api/v1/conversations").json()
    api.post(
        f"/api/v1/conversations/{first['id']}/handoff",
        headers={"Authorization": f"Bearer {first['token']}"},
    ).raise_for_status()
    expect(counsellor.locator("#queue .queue-item")).to_have_count(1)
    expect(counsellor.get_by_role("alert").filter(has_text="Ny samtale i køen")).to_be_visible()
    expect(counsellor).to_have_title("(1) Rådgiverpanel")
    assert counsellor.evaluate("window.__tones") == 1

    second = api.post("/api/v1/conversations").json()
    api.post(
        f"/api/v1/conversations/{second['id']}/messages",
        json={"text": "jeg vil ikke leve mere"},
        headers={"Authorization": f"Bearer {second['token']}"},
    ).raise_for_status()
    expect(counsellor.locator("#queue .queue-item")).to_have_count(2)
    expect(counsellor.get_by_role("alert")).to_have_text("Ny KRITISK samtale i køen – tag den nu.")
    expect(counsellor).to_have_title("(2) KRITISK – Rådgiverpanel")
    assert counsellor.evaluate("window.__tones") == 1 + 3
    top = counsellor.locator("#queue .queue-item").first
    expect(top.locator(".risk")).to_have_text("Kritisk")
    shoot(counsellor, "dashboard-06-critical-handoff-alert")

    counsellor.get_by_role("button", name="Tag næste").click()
    expect(counsellor.locator("#conv-risk")).to_have_text("Kritisk")
    expect(counsellor.locator("#transcript .from-young")).to_contain_text("jeg vil ikke leve mere")
    expect(counsellor.get_by_role("alert").filter(has_text="KRITISK")).to_be_hidden()
