"""Several municipalities on one platform (issue #16), as the people see it: a municipality's
own page on /ung/<slug> (its name, hours and local help, on a phone and a laptop), and a network
counsellor referring a young person's conversation to a municipality, which the young person's
page shows live (the new queue, in the service's sentence, and the place).

The organisations, shifts and users are made through the API as the platform admin; every name
has a random part, since the shared stack keeps organisations between tests."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import LAPTOP, PHONE, run_axe, shoot
from tests.utils.clock import open_now_window
from tests.utils.e2e import login

pytestmark = pytest.mark.browser

TZ = ZoneInfo("Europe/Copenhagen")
NEW_PASSWORD = "en-lang-nok-adgangskode"  # noqa: S105 - the test users' password on the test stack
SHOTS = Path("/tmp/shots16")  # noqa: S108 - screenshots to look at by hand, nothing secret
LOCAL_INFO = [
    {
        "title": "Ungerådgivningen i Åby",
        "text": "Gratis og anonym samtale med en rådgiver – også uden dine forældre.",
        "phone": "+45 12 34 56 78",
        "address": "Torvet 3, 9999 Åby",
        "url": "https://aaby.example/ung",
        "source": "Åby Kommune, Børn og Unge, oktober 2026",
    },
    {
        "title": "BørneTelefonen",
        "text": "Er du under 18, kan du ringe gratis og anonymt hele døgnet.",
        "phone": "116 111",
        "source": "Børns Vilkår: BørneTelefonen 116 111 (døgnåben)",
    },
]
CONFIDENTIALITY = (
    "Rådgiverne har tavshedspligt. Du kan være helt anonym, og vi ser ikke, hvem du er."
)


def snap(page: Page, name: str, *, full_page: bool = False) -> None:
    """The test's screenshots in /tmp/shots16 (looked at by hand) and artifacts/screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    shoot(page, f"organisations-{name}", full_page=full_page)


def make_organisation(
    api: httpx.Client,
    admin: dict[str, str],
    name: str,
    *,
    kind: str = "municipality",
    network: str | None = None,
    weekly: tuple[tuple[int, str, str], ...] = (),
    closed: tuple[str, ...] = (),
    local_info: tuple[dict, ...] | list[dict] = (),
) -> str:
    slug = f"{re.sub(r'[^a-z]', '', name.lower())[:12]}-{secrets.token_hex(3)}"
    created = api.post(
        "/api/v1/organisations",
        json={
            "slug": slug,
            "name": name,
            "kind": kind,
            "network": network,
            "presentation": f"{name} har sin egen chat for unge, der har det svært derhjemme.",
            "age_range": "12-24 år",
            "confidentiality": CONFIDENTIALITY,
            "local_info": list(local_info),
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    on_date, starts, ends = open_now_window()
    extra = api.post(
        f"/api/v1/shifts/exceptions?organisation={slug}",
        json={"on_date": on_date, "kind": "extra", "starts_at": starts, "ends_at": ends},
        headers=admin,
    )
    assert extra.status_code == 201, extra.text
    for weekday, start, end in weekly:
        shift = api.post(
            f"/api/v1/shifts/weekly?organisation={slug}",
            json={"weekday": weekday, "starts_at": start, "ends_at": end, "counsellors": 1},
            headers=admin,
        )
        assert shift.status_code == 201, shift.text
    for day in closed:
        closed_day = api.post(
            f"/api/v1/shifts/exceptions?organisation={slug}",
            json={"on_date": day, "kind": "closed", "note": "Lukket"},
            headers=admin,
        )
        assert closed_day.status_code == 201, closed_day.text
    page = api.get(f"/api/v1/organisations/{slug}").json()
    assert page["open_now"] is True, page
    return slug


def make_counsellor(api: httpx.Client, admin: dict[str, str], organisation: str) -> str:
    username = f"r-{organisation}"[:40]
    created = api.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": NEW_PASSWORD,
            "role": "counsellor",
            "organisation": organisation,
        },
        headers=admin,
    )
    assert created.status_code in (200, 201), created.text
    return username


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.get_by_text(f"Logget ind som {username}").wait_for()


def no_sideways_scrolling(page: Page) -> None:
    width = page.viewport_size["width"]
    overflowing = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => el.getClientRects().length
                && el.getBoundingClientRect().right > width + 1)
            .map(el => el.id || el.className || el.tagName)""",
        width,
    )
    assert overflowing == [], f"wider than the screen: {overflowing}"


def in_view(page: Page, selector: str) -> None:
    """The element is wholly inside the window (not scrolled away, not pushed off)."""
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    height = page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (selector, box, height)


def no_axe_violations(page: Page, name: str) -> None:
    violations = run_axe(page, name)
    assert violations == [], violations


def ask_for_a_counsellor(young: Page) -> None:
    """Through the real bot: the young person writes that they want a person."""
    bot_lines = young.locator("#transcript .from-bot").count()
    young.get_by_label("Skriv din besked").fill("jeg vil gerne snakke med en rådgiver")
    young.get_by_label("Skriv din besked").press("Enter")
    expect(young.locator("#transcript .from-bot")).not_to_have_count(bot_lines)
    expect(young.locator("#typing")).to_be_hidden()
    if young.get_by_role("button", name="Skriv med en rådgiver").is_visible():
        # The bot answered without queueing (it may offer first): the button does it.
        young.get_by_role("button", name="Skriv med en rådgiver").click()
    expect(young.locator("#status-text")).to_contain_text("i køen")


def test_a_municipalitys_page_shows_its_own_name_hours_and_local_help(contexts, base_url, api):
    admin = login(api, "demo-admin")
    name = f"Åby {secrets.token_hex(2).upper()} Kommune"
    closed_day = (datetime.now(TZ) + timedelta(days=8)).date()
    slug = make_organisation(
        api,
        admin,
        name,
        weekly=((0, "12:00", "16:00"), (3, "12:00", "16:00"), (3, "19:00", "21:00")),
        closed=(closed_day.isoformat(),),
        local_info=LOCAL_INFO,
    )

    for size, viewport in (("360", PHONE), ("1280", LAPTOP)):
        page = contexts.new_page(viewport, phone=viewport is PHONE)
        page.goto(f"{base_url}/ung/{slug}")
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
        expect(page.locator("#brand")).to_have_text(name)
        expect(page).to_have_title(f"{name} – skriv anonymt med en rådgiver")
        welcome = page.locator("#org-welcome")
        expect(welcome).to_contain_text(f"{name} har sin egen chat")
        expect(welcome).to_contain_text("12-24 år")
        expect(welcome.locator(".open-now")).to_have_text("Åben nu")
        expect(welcome.locator(".org-hours-line")).to_have_text(
            "Åbent: mandag kl. 12-16, torsdag kl. 12-16 og kl. 19-21."
        )
        expect(welcome.locator(".org-closed")).to_contain_text(f"{closed_day.day}. ")
        # Where a young person who writes now waits, in the service's own sentence.
        expect(page.locator("#service-status")).to_contain_text(
            f"Du venter på en rådgiver fra {name}."
        )
        snap(page, f"a-welcome-{size}")

        page.get_by_text("Tavshedspligt og hjælp i nærheden").click()
        expect(welcome).to_contain_text(CONFIDENTIALITY)
        first = welcome.locator(".local-item").first
        expect(first.get_by_role("heading", name="Ungerådgivningen i Åby")).to_be_visible()
        expect(first.get_by_role("link", name="Ring +45 12 34 56 78")).to_have_attribute(
            "href", "tel:+4512345678"
        )
        expect(first).to_contain_text("Adresse: Torvet 3, 9999 Åby")
        expect(first.get_by_role("link", name="aaby.example/ung")).to_have_attribute(
            "href", "https://aaby.example/ung"
        )
        expect(welcome.get_by_role("link", name="Ring 116 111")).to_have_attribute(
            "href", "tel:116111"
        )
        no_sideways_scrolling(page)
        snap(page, f"a-local-help-{size}", full_page=True)
        if viewport is PHONE:
            no_axe_violations(page, "organisations-welcome-360")

        # The conversation starts on this municipality's queue; its facts stay one tap away.
        page.get_by_role("button", name="Start chatten").click()
        page.locator("#transcript .from-bot").first.wait_for()
        about = page.locator("#org-about")
        expect(about.locator("summary")).to_contain_text(f"Om {name}")
        expect(about.locator("summary")).to_contain_text("Åben nu")
        expect(page.locator("#brand")).to_have_text(name)
        about.locator("summary").click()
        expect(about.locator(".org-hours-line")).to_contain_text("torsdag kl. 12-16 og kl. 19-21")
        expect(about.get_by_role("link", name="Ring +45 12 34 56 78")).to_be_visible()
        # Open, it never pushes the message box off the screen.
        in_view(page, "#message")
        in_view(page, "#send")
        no_sideways_scrolling(page)
        snap(page, f"a-conversation-about-open-{size}")
        if viewport is PHONE:
            no_axe_violations(page, "organisations-conversation-about-360")
        conversation = page.evaluate("JSON.parse(sessionStorage.getItem('chat.conversation'))")
        status = api.get(f"/api/v1/service-status?organisation={slug}").json()
        assert status["queue"]["slug"] == slug, status
        assert conversation["id"]

    # The plain / page is the default organisation's, as before.
    plain = contexts.new_page(PHONE, phone=True)
    plain.goto(f"{base_url}/")
    expect(plain.get_by_role("heading", name="Skriv anonymt med os")).to_be_visible()
    expect(plain.locator("#org-welcome")).to_be_hidden()
    # An unknown municipality: the service's own 404 page, in Danish.
    missing = plain.goto(f"{base_url}/ung/findes-ikke-{secrets.token_hex(2)}")
    assert missing is not None and missing.status == 404
    expect(plain.get_by_role("heading", name="Siden findes ikke")).to_be_visible()


def test_the_network_counsellor_refers_to_a_municipality_and_the_young_person_sees_it(
    contexts, base_url, api
):
    admin = login(api, "demo-admin")
    tag = secrets.token_hex(2).upper()
    network_name = f"Fællesnettet {tag}"
    municipality_name = f"Bakkeby {tag} Kommune"
    network = make_organisation(api, admin, network_name, kind="network")
    municipality = make_organisation(
        api, admin, municipality_name, network=network, local_info=LOCAL_INFO[:1]
    )
    network_counsellor = make_counsellor(api, admin, network)
    local_counsellor = make_counsellor(api, admin, municipality)

    # A young person writes on the network's page and asks the real bot for a person.
    young = contexts.new_page(PHONE, phone=True)
    young.goto(f"{base_url}/ung/{network}")
    expect(young.get_by_role("heading", level=2, name=network_name)).to_be_visible()
    young.get_by_role("button", name="Start chatten").click()
    young.locator("#transcript .from-bot").first.wait_for()
    young.evaluate("window.__sameDocument = true")
    ask_for_a_counsellor(young)
    status = young.locator("#status-text")
    expect(status).to_contain_text("Du er nummer 1 i køen")
    expect(status.locator(".status-queue")).to_have_text(
        f"Du venter på en rådgiver fra {network_name}."
    )
    young.get_by_role("button", name="Luk").click()  # the code box, saved or not
    snap(young, "b-young-waits-in-network-360")

    # The network counsellor sees which queue it is in, and refers it to the municipality.
    counsellor = contexts.new_page(LAPTOP)
    log_in(counsellor, base_url, network_counsellor)
    item = counsellor.locator("#queue .queue-item")
    expect(item).to_have_count(1)
    expect(item.locator(".queue-where")).to_have_text(f"Kø: {network_name}")
    item.get_by_role("button", name="Henvis til kommune").click()
    panel = counsellor.locator("#queue-refer-panel")
    expect(panel).to_be_visible()
    target = panel.get_by_label("Kommune eller tilbud")
    expect(target.locator("option", has_text=municipality_name)).to_have_text(
        f"{municipality_name} – åben nu"
    )
    expect(target.locator("option", has_text=network_name)).to_have_count(0)  # its own queue
    panel.get_by_role("button", name="Henvis", exact=True).click()
    expect(panel.get_by_role("alert")).to_have_text(
        "Vælg den kommune eller det tilbud, samtalen skal henvises til."
    )
    target.select_option(label=f"{municipality_name} – åben nu")
    panel.get_by_label("Grund").select_option(label="Den unge kan få hjælp lokalt i sin kommune")
    panel.get_by_role("button", name="Henvis", exact=True).click()
    expect(panel.locator(".refer-confirm")).to_contain_text(
        f"Henvis samtalen til {municipality_name}? "
        "Grund: Den unge kan få hjælp lokalt i sin kommune."
    )
    snap(counsellor, "b-counsellor-confirms-referral-1280")
    panel.get_by_role("button", name="Ja, henvis").click()

    # It leaves the network's queue with a clear confirmation …
    expect(counsellor.locator("#queue-notice")).to_have_text(
        f"Samtalen er henvist til {municipality_name}. Den unge er nummer 1 i køen dér "
        "og har fået besked om, hvor samtalen er sendt hen."
    )
    expect(item).to_have_count(0)
    expect(counsellor.locator("#queue-empty")).to_be_visible()
    snap(counsellor, "b-counsellor-referred-1280")

    # … and the young person's page says where, and the place, live.
    expect(status.locator(".status-queue")).to_have_text(
        f"En rådgiver har sendt din samtale videre til {municipality_name}."
    )
    expect(status.locator(".status-main")).to_contain_text("Du er nummer 1 i køen")
    expect(young.locator("#transcript .from-bot .bubble-text").last).to_have_text(
        f"En rådgiver har sendt din samtale videre til {municipality_name}."
    )
    assert young.evaluate("window.__sameDocument === true"), "the young person's page reloaded"
    no_sideways_scrolling(young)
    snap(young, "b-young-sees-new-queue-360")

    # The municipality's counsellor (on a phone) sees where it started, takes it, and refers it
    # back from the open conversation.
    local = contexts.new_page(PHONE, phone=True)
    log_in(local, base_url, local_counsellor)
    local_item = local.locator("#queue .queue-item")
    expect(local_item).to_have_count(1)
    expect(local_item.locator(".queue-where")).to_have_text(
        f"Kø: {municipality_name} · startede hos {network_name}"
    )
    no_sideways_scrolling(local)
    local_item.scroll_into_view_if_needed()
    snap(local, "b-municipality-queue-360")
    local.get_by_role("button", name="Tag næste").click()
    expect(local.locator("#conv-state")).to_contain_text("Du har samtalen")
    expect(local.locator("#conv-queue")).to_have_text(
        f"Kø: {municipality_name} · startede hos {network_name}"
    )
    expect(status).to_have_text("Du skriver med en rådgiver")
    local.locator("#refer-open").click()
    conv_panel = local.locator("#conv-refer-panel")
    conv_panel.get_by_label("Kommune eller tilbud").select_option(label=f"{network_name} – åben nu")
    conv_panel.get_by_label("Grund").select_option(label="Den anden kommune har åbent nu")
    conv_panel.get_by_role("button", name="Henvis", exact=True).click()
    no_sideways_scrolling(local)
    conv_panel.get_by_role("button", name="Ja, henvis").click()
    expect(local.locator("#conv-state")).to_have_text(
        f"Samtalen er henvist til {network_name}. Den unge er nummer 1 i køen dér "
        "og har fået besked om, hvor samtalen er sendt hen."
    )
    expect(local.get_by_label("Dit svar til den unge")).to_be_disabled()
    expect(local.locator("#refer-open")).to_be_disabled()
    # A member municipality's counsellors also see the network's queue: there it is now.
    expect(local_item.locator(".queue-where")).to_have_text(f"Kø: {network_name}")
    snap(local, "b-municipality-referred-back-360")
    expect(status.locator(".status-queue")).to_have_text(
        f"En rådgiver har sendt din samtale videre til {network_name}."
    )
    expect(status.locator(".status-main")).to_contain_text("Du er nummer 1 i køen")
    snap(young, "b-young-back-in-network-360")
    no_axe_violations(counsellor, "organisations-dashboard-referred-1280")
