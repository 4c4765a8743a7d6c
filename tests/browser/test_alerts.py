"""Alerts that reach the counsellor (issue #13, part 3): the tone is re-armed by the first click
after a reload (and says so until then), the critical bar stays until "Set" (focusing the tab
does not hide it), a critical hand-off while the tab is hidden makes a system notification
without any message text, the permission is asked in the page first, and the tab title counts.
Laptop (1280 px) and phone (360 px), axe-core on every state."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import LAPTOP, PHONE, login_counsellor, run_axe, shoot

pytestmark = pytest.mark.browser

CRITICAL_TEXT = "jeg vil ikke leve mere"
SOUND_OFF = "Lyd slået fra – klik et sted på siden for at slå lyden til"

# Counts tones, lets the test hide the page (document.visibilityState) and records what the page
# does with Notification; `__permission` overrides what the browser context says.
WATCH = """(() => {
  window.__tones = 0;
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__tones += 1;
    return create.call(this);
  };
  window.__hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", {
    configurable: true, get() { return window.__hidden ? "hidden" : "visible"; } });
  Object.defineProperty(Document.prototype, "hidden", {
    configurable: true, get() { return window.__hidden; } });
  window.__setHidden = (hidden) => {
    window.__hidden = hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  };
  window.__notes = [];
  window.__asked = 0;
  window.__focused = 0;
  window.__permission = %(permission)s;
  window.__answer = %(answer)s;
  const Real = window.Notification;
  class Recorded {
    constructor(title, options = {}) {
      this.title = title;
      this.options = options;
      this.closed = false;
      window.__notes.push(this);
    }
    close() { this.closed = true; }
    static get permission() { return window.__permission || Real.permission; }
    static requestPermission() {
      window.__asked += 1;
      if (window.__answer) window.__permission = window.__answer;
      return Promise.resolve(Recorded.permission);
    }
  }
  window.Notification = Recorded;
  const focus = window.focus.bind(window);
  window.focus = () => { window.__focused += 1; focus(); };
})()"""


def watched_page(contexts, viewport, *, phone=False, permission=None, answer=None) -> Page:
    page = contexts.new_page(viewport, phone=phone)
    js = lambda value: "null" if value is None else f'"{value}"'  # noqa: E731
    page.add_init_script(WATCH % {"permission": js(permission), "answer": js(answer)})
    return page


def hand_off(api: httpx.Client, *, critical: bool = False) -> None:
    created = api.post("/api/v1/conversations").json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    if critical:
        sent = api.post(
            f"/api/v1/conversations/{created['id']}/messages",
            json={"text": CRITICAL_TEXT},
            headers=headers,
        )
    else:
        sent = api.post(f"/api/v1/conversations/{created['id']}/handoff", headers=headers)
    sent.raise_for_status()


def no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def assert_no_axe(page: Page, name: str) -> None:
    violations = run_axe(page, name)
    assert violations == [], violations


def test_sound_is_rearmed_by_the_first_click_after_a_reload(contexts, base_url, api, empty_queue):
    counsellor = watched_page(contexts, LAPTOP)
    login_counsellor(counsellor, base_url)
    sound_state = counsellor.locator("#sound-state")
    expect(sound_state).to_be_empty()  # the login click armed it
    hand_off(api)
    expect(counsellor.locator("#queue .queue-item")).to_have_count(1)
    expect(counsellor).to_have_title("(1) Rådgiverpanel")
    assert counsellor.evaluate("window.__tones") == 1

    # A reload: still logged in, but the browser will not play sound before a gesture.
    counsellor.reload()
    counsellor.get_by_text("Logget ind som demo").wait_for()
    expect(counsellor.locator("#queue .queue-item")).to_have_count(1)
    expect(sound_state).to_have_text(SOUND_OFF)
    expect(sound_state).to_be_visible()
    expect(counsellor.get_by_label("Lyd ved nye samtaler")).to_be_checked()
    shoot(counsellor, "alerts-01-sound-off-after-reload-1280")
    assert_no_axe(counsellor, "alerts-sound-off-1280")
    hand_off(api)
    expect(counsellor.locator("#queue .queue-item")).to_have_count(2)
    expect(counsellor.get_by_role("alert").filter(has_text="Ny samtale i køen")).to_be_visible()
    assert counsellor.evaluate("window.__tones") == 0  # not armed: silent, and it says so

    counsellor.locator("#queue-heading").click()  # any click on the page
    expect(sound_state).to_be_empty()
    expect(sound_state).to_be_hidden()
    hand_off(api)
    expect(counsellor.locator("#queue .queue-item")).to_have_count(3)
    expect(counsellor).to_have_title("(3) Rådgiverpanel")
    assert counsellor.evaluate("window.__tones") == 1

    # A key press arms it too.
    counsellor.reload()
    counsellor.get_by_text("Logget ind som demo").wait_for()
    expect(sound_state).to_have_text(SOUND_OFF)
    counsellor.keyboard.press("Tab")
    expect(sound_state).to_be_empty()

    # The choice is remembered (localStorage, "on"/"off" only); switched off, nothing nags.
    counsellor.get_by_label("Lyd ved nye samtaler").uncheck()
    assert counsellor.evaluate("localStorage.getItem('counsellor.sound')") == "off"
    counsellor.reload()
    counsellor.get_by_text("Logget ind som demo").wait_for()
    expect(counsellor.get_by_label("Lyd ved nye samtaler")).not_to_be_checked()
    expect(sound_state).to_be_empty()
    hand_off(api)
    expect(counsellor.locator("#queue .queue-item")).to_have_count(4)
    counsellor.locator("#queue-heading").click()
    hand_off(api)
    expect(counsellor.locator("#queue .queue-item")).to_have_count(5)
    assert counsellor.evaluate("window.__tones") == 0
    counsellor.get_by_label("Lyd ved nye samtaler").check()  # the click arms it at once
    expect(sound_state).to_be_empty()
    assert counsellor.evaluate("localStorage.getItem('counsellor.sound')") == "on"


def test_critical_bar_stays_until_seen_and_notifies_while_hidden(
    contexts, base_url, api, empty_queue
):
    counsellor = watched_page(contexts, LAPTOP)
    counsellor.context.grant_permissions(["notifications"], origin=base_url)
    login_counsellor(counsellor, base_url)
    expect(counsellor.locator("#queue-empty")).to_be_visible()
    # Permission already granted: nothing to ask.
    expect(counsellor.get_by_role("heading", name="Få besked")).to_be_hidden()

    counsellor.evaluate("window.__setHidden(true)")
    hand_off(api, critical=True)
    bar = counsellor.locator("#critical-bar")
    expect(bar).to_be_visible()
    expect(counsellor.get_by_role("alert")).to_have_text("Ny KRITISK samtale i køen – tag den nu.")
    expect(counsellor).to_have_title("(1) KRITISK – Rådgiverpanel")
    hand_off(api)  # a normal one between the two critical ones
    expect(counsellor.locator("#queue .queue-item")).to_have_count(2)
    hand_off(api, critical=True)
    expect(counsellor.locator("#critical-title")).to_have_text(
        "2 KRITISKE samtaler i køen – tag dem nu."
    )
    expect(bar.locator(".critical-item")).to_have_count(2)
    expect(counsellor).to_have_title("(3) KRITISK – Rådgiverpanel")

    notes = counsellor.evaluate(
        "window.__notes.map(n => ({title: n.title, body: n.options.body, tag: n.options.tag}))"
    )
    assert [note["title"] for note in notes] == ["Kritisk samtale i køen"] * 2, notes
    assert notes[0]["body"] == "1 ung venter i køen.", notes
    assert notes[1]["body"] == "3 unge venter i køen.", notes
    for note in notes:
        assert "leve" not in f"{note['title']} {note['body']}", note
    assert counsellor.evaluate("window.__tones") == 3 + 1 + 3
    # Clicking the notification brings the tab forward.
    counsellor.evaluate("window.__notes[1].onclick()")
    assert counsellor.evaluate("window.__focused") == 1
    assert counsellor.evaluate("window.__notes[1].closed")

    # The counsellor comes back to the tab: the bar stays.
    counsellor.evaluate("window.__setHidden(false)")
    counsellor.bring_to_front()
    counsellor.evaluate("window.dispatchEvent(new Event('focus'))")
    counsellor.wait_for_timeout(1000)
    expect(bar).to_be_visible()
    expect(bar.locator(".critical-item")).to_have_count(2)
    shoot(counsellor, "alerts-02-two-critical-stay-after-focus-1280")
    assert_no_axe(counsellor, "alerts-critical-bar-1280")
    # No notification while the tab is visible (the bar and the tone are enough).
    hand_off(api, critical=True)
    expect(bar.locator(".critical-item")).to_have_count(3)
    assert counsellor.evaluate("window.__notes.length") == 2

    # "Set", per conversation and by keyboard: focus stays in the bar, then goes to "Tag næste".
    first_seen = bar.get_by_role("button", name="Set:").first
    first_seen.focus()
    counsellor.keyboard.press("Enter")
    expect(bar.locator(".critical-item")).to_have_count(2)
    expect(bar.get_by_role("button", name="Set:").first).to_be_focused()
    counsellor.keyboard.press("Enter")
    expect(counsellor.locator("#critical-title")).to_have_text(
        "Ny KRITISK samtale i køen – tag den nu."
    )
    counsellor.keyboard.press("Space")
    expect(bar).to_be_hidden()
    expect(counsellor.get_by_role("button", name="Tag næste")).to_be_focused()
    expect(counsellor).to_have_title("(4) KRITISK – Rådgiverpanel")  # still waiting
    shoot(counsellor, "alerts-03-all-seen-1280")

    # Seen stays seen after a reload of this tab.
    counsellor.reload()
    counsellor.get_by_text("Logget ind som demo").wait_for()
    expect(counsellor.locator("#queue .queue-item")).to_have_count(4)
    counsellor.wait_for_timeout(500)
    expect(bar).to_be_hidden()
    expect(counsellor).to_have_title("(4) KRITISK – Rådgiverpanel")


def test_notifications_are_asked_in_the_page_first_and_denied_is_explained(
    contexts, base_url, api, empty_queue
):
    counsellor = watched_page(contexts, PHONE, phone=True, permission="default", answer="denied")
    login_counsellor(counsellor, base_url)
    offer = counsellor.locator("#notify")
    expect(offer.get_by_role("heading")).to_have_text("Få besked, også når fanen ikke er åben")
    expect(offer).to_contain_text("aldrig, hvad den unge har skrevet")
    expect(counsellor.locator("#queue-empty")).to_be_visible()
    assert counsellor.evaluate("window.__asked") == 0  # the browser is not asked before the page
    no_sideways_scrolling(counsellor)
    shoot(counsellor, "alerts-04-notification-offer-360")
    assert_no_axe(counsellor, "alerts-notify-offer-360")

    counsellor.get_by_role("button", name="Slå beskeder til").click()
    expect(offer.locator("#notify-state")).to_contain_text("blokeret beskeder")
    assert counsellor.evaluate("window.__asked") == 1
    expect(counsellor.get_by_role("button", name="Slå beskeder til")).to_be_hidden()
    expect(counsellor.get_by_role("button", name="OK")).to_be_focused()
    shoot(counsellor, "alerts-05-notifications-denied-360")
    assert_no_axe(counsellor, "alerts-notify-denied-360")
    counsellor.get_by_role("button", name="OK").click()
    expect(offer).to_be_hidden()

    # Hidden and denied: no notification, but the bar, at 360 px.
    counsellor.evaluate("window.__setHidden(true)")
    hand_off(api, critical=True)
    bar = counsellor.locator("#critical-bar")
    expect(bar).to_be_visible()
    assert counsellor.evaluate("window.__notes.length") == 0
    counsellor.evaluate("window.__setHidden(false)")
    expect(counsellor).to_have_title("(1) KRITISK – Rådgiverpanel")
    no_sideways_scrolling(counsellor)
    shoot(counsellor, "alerts-06-critical-bar-360")
    assert_no_axe(counsellor, "alerts-critical-bar-360")

    # "Jeg tager den" takes it; the bar goes with it.
    bar.get_by_role("button", name="Jeg tager den").click()
    expect(counsellor.locator("#conv-risk")).to_have_text("Kritisk")
    expect(bar).to_be_hidden()
    expect(counsellor).to_have_title("Rådgiverpanel")
    # Closed again, so the next test's "Tag næste" finds nobody waiting for this counsellor.
    counsellor.get_by_role("button", name="Afslut samtale").click()
    expect(counsellor.locator("#conv-state")).to_contain_text("Samtalen er afsluttet")

    # A reload on the phone: the sound says it is off until a tap; the offer, answered, stays away.
    counsellor.reload()
    counsellor.get_by_text("Logget ind som demo").wait_for()
    expect(counsellor.locator("#sound-state")).to_have_text(SOUND_OFF)
    expect(offer).to_be_hidden()
    no_sideways_scrolling(counsellor)
    shoot(counsellor, "alerts-07-sound-off-after-reload-360")
    assert_no_axe(counsellor, "alerts-sound-off-360")
    counsellor.locator("#mine-heading").tap()
    expect(counsellor.locator("#sound-state")).to_be_empty()
