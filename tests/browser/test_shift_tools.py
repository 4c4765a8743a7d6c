"""The shift's tools in the dashboard (issue #13, part 4): an approved canned reply fills the box
and is sent only on "Send svar", an internal note never reaches the young person's page, and a
conversation handed to a named colleague shows up in their "Mine samtaler" while the young
person is told that another counsellor takes over. Laptop (1280 px) and phone (360 px)."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.sync_api import Page, expect

from tests.utils.browser import (
    COUNSELLOR,
    LAPTOP,
    PHONE,
    login_counsellor,
    run_axe,
    shoot,
    start_chat,
)

YOUNG_TEXT = "min far drikker hele tiden og jeg tør ikke sige det til nogen"
NOTE = "Intern note: virker bange for far, spørg til skolen næste gang"


def login_as(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()
    page.get_by_text(f"Logget ind som {username}").wait_for()


def make_colleague(api: httpx.Client) -> tuple[str, str]:
    admin = api.post(
        "/api/v1/auth/login",
        json={"username": "demo-admin", "password": COUNSELLOR["password"]},
    )
    assert admin.status_code == 200, admin.text
    username, password = f"kollega{secrets.token_hex(3)}", "kollegas-kodeord-123"
    created = api.post(
        "/api/v1/users",
        json={"username": username, "password": password, "role": "counsellor"},
        headers={"Authorization": f"Bearer {admin.json()['access_token']}"},
    )
    assert created.status_code in (200, 201), created.text
    return username, password


def test_canned_reply_note_and_transfer(contexts, base_url, api, empty_queue):
    colleague_name, colleague_password = make_colleague(api)

    young = contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    young.get_by_label("Skriv din besked").fill(YOUNG_TEXT)
    young.get_by_label("Skriv din besked").press("Enter")
    expect(young.locator("#transcript .from-young")).to_contain_text("min far drikker")
    young.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(young.locator("#status-text")).to_contain_text("i køen")

    # The queue row: the first message, cut short, and what the bot gave in Danish.
    counsellor = contexts.new_page(LAPTOP)
    login_counsellor(counsellor, base_url)
    row = counsellor.locator("#queue .queue-item").first
    expect(row.locator(".queue-first")).to_contain_text("Første besked: „min far drikker")
    shoot(counsellor, "shift-01-queue-first-message-1280")

    counsellor.get_by_role("button", name="Tag næste").click()
    expect(counsellor.locator("#conv-state")).to_contain_text("Du har samtalen")
    expect(counsellor.locator("#reply-keys")).to_have_text(
        "Enter: ny linje · Ctrl+Enter (Mac: ⌘+Enter): send"
    )
    given = counsellor.locator("#conv-given li")
    for index in range(given.count()):
        assert not re.fullmatch(r"[a-z0-9_]+", given.nth(index).inner_text()), "a raw item id"

    # A canned reply: grouped by theme, fills the box, nothing is sent before "Send svar".
    picker = counsellor.get_by_label("Godkendte tekster")
    expect(picker.locator("optgroup[label='Akut hjælp']")).to_have_count(1)
    expect(picker.locator("optgroup[label='Nødnumre'] option")).to_have_count(1)
    picker.select_option("emergency_numbers")
    box = counsellor.get_by_label("Dit svar til den unge")
    expect(box).to_have_value(re.compile(r"Alarm 112: 112 .*BørneTelefonen.*116 111", re.S))
    expect(box).to_be_focused()
    counsellor.wait_for_timeout(1500)
    expect(young.locator("#transcript .from-counsellor")).to_have_count(0)
    shoot(counsellor, "shift-02-canned-reply-in-box-1280")
    # Enter alone is a new line; Ctrl+Enter sends.
    box.press("End")
    box.press("Enter")
    expect(counsellor.locator("#transcript .from-counsellor")).to_have_count(0)
    box.press("Control+Enter")
    expect(counsellor.locator("#transcript .from-counsellor")).to_contain_text("Alarm 112")
    expect(young.locator("#transcript .from-counsellor")).to_contain_text("116 111")

    # An internal note: listed for the counsellor, never on the young person's page.
    counsellor.get_by_label("Ny note").fill(NOTE)
    counsellor.get_by_role("button", name="Gem note").click()
    expect(counsellor.locator("#notes-list .note-text")).to_have_text(NOTE)
    expect(counsellor.locator("#notes-list .note-meta")).to_contain_text("demo")
    young.wait_for_timeout(1500)
    assert "Intern note" not in young.content() and "spørg til skolen" not in young.content()
    shoot(counsellor, "shift-03-note-saved-1280", full_page=True)
    shoot(young, "shift-04-young-person-sees-no-note-360")
    violations = run_axe(counsellor, "shift-conversation-1280")
    assert violations == [], violations

    # The colleague logs in on a phone; the counsellor hands the conversation over.
    colleague = contexts.new_page(PHONE, phone=True)
    login_as(colleague, base_url, colleague_name, colleague_password)
    expect(colleague.locator("#mine-empty")).to_be_visible()
    counsellor.get_by_label("Giv samtalen til en kollega").select_option(label=colleague_name)
    counsellor.get_by_role("button", name="Giv videre").click()
    expect(counsellor.locator("#conv-state")).to_contain_text(
        f"Samtalen er givet videre til {colleague_name}"
    )
    expect(counsellor.get_by_label("Dit svar til den unge")).to_be_disabled()
    shoot(counsellor, "shift-05-handed-over-1280")

    expect(colleague.locator("#alert")).to_contain_text("En kollega har givet dig en samtale")
    expect(colleague.locator("#mine .mine-item")).to_have_count(1)
    shoot(colleague, "shift-06-colleague-told-360")
    expect(young.locator("#transcript .from-bot").last).to_contain_text(
        "En anden rådgiver tager over din samtale nu"
    )
    expect(young.locator("#status-text")).to_have_text("Du skriver med en rådgiver")
    shoot(young, "shift-07-young-person-told-360")

    # The colleague opens it: the notes came along, and they can answer.
    colleague.locator("#mine .mine-open").first.click()
    expect(colleague.locator("#conv-state")).to_contain_text("Du har samtalen")
    expect(colleague.locator("#notes-list .note-text")).to_have_text(NOTE)
    colleague.get_by_label("Dit svar til den unge").fill("Hej, jeg hedder Sara og tager over nu.")
    colleague.get_by_role("button", name="Send svar").click()
    expect(young.locator("#transcript .from-counsellor").last).to_contain_text("Sara")
    colleague.locator("#notes-heading").scroll_into_view_if_needed()
    shoot(colleague, "shift-08-colleague-conversation-360")
    violations = run_axe(colleague, "shift-conversation-360")
    assert violations == [], violations
    assert contexts.dialogs == []
