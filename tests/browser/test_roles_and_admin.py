"""Roles that work (issue #13, part 5): each role starts on its own page, 401 and 403 are told
apart in Danish, and the admin pages drive the shift calendar, users and the audit trail."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import COUNSELLOR, LAPTOP, PHONE, login_counsellor, run_axe, shoot
from tests.utils.e2e import login

pytestmark = pytest.mark.browser

PASSWORD = COUNSELLOR["password"]  # the stack gives every demo user the same one
TZ = ZoneInfo("Europe/Copenhagen")
WEEKDAYS = ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"]
SIZES = (("1280", LAPTOP), ("360", PHONE))


def log_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(password)
    page.get_by_role("button", name="Log ind").click()


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


def no_axe_violations(page: Page, name: str) -> None:
    violations = run_axe(page, name)
    assert violations == [], violations


def open_section(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Admin-sider").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()


def clock_words(moment: datetime) -> str:
    """As the service says it: 'kl. 14' or 'kl. 14.05'."""
    return f"kl. {moment.hour}" if moment.minute == 0 else f"kl. {moment.hour}.{moment.minute:02d}"


@pytest.fixture
def own_calendar(api: httpx.Client) -> Iterator[None]:
    """An empty calendar for the test; the one before is put back afterwards."""
    admin = login(api, "demo-admin")
    before = api.get("/api/v1/shifts", headers=admin).json()

    def clear(headers: dict[str, str]) -> None:
        calendar = api.get("/api/v1/shifts", headers=headers).json()
        for shift in calendar["weekly"]:
            api.delete(f"/api/v1/shifts/weekly/{shift['id']}", headers=headers)
        for exception in calendar["exceptions"]:
            api.delete(f"/api/v1/shifts/exceptions/{exception['id']}", headers=headers)

    clear(admin)
    yield
    admin = login(api, "demo-admin")  # the page's "Log ud" may have ended the first token
    clear(admin)
    for shift in before["weekly"]:
        body = {key: shift[key] for key in ("weekday", "starts_at", "ends_at", "counsellors")}
        assert api.post("/api/v1/shifts/weekly", json=body, headers=admin).status_code == 201
    for exception in before["exceptions"]:
        body = {key: value for key, value in exception.items() if key != "id"}
        assert api.post("/api/v1/shifts/exceptions", json=body, headers=admin).status_code == 201


# -- where each role lands ----------------------------------------------------------------------


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_a_trainer_lands_on_the_trainer_page_not_in_an_expiry_loop(
    contexts, base_url, size, viewport
):
    page = contexts.new_page(viewport, phone=viewport is PHONE)
    log_in(page, base_url, "demo-traener")
    expect(page).to_have_url(f"{base_url}/trainer")
    # The trainer's inbox (tests/browser/test_trainer.py tests the page itself).
    expect(page.get_by_role("heading", level=1, name="Indbakke")).to_be_visible()
    expect(page.get_by_text("Logget ind som demo-traener")).to_be_visible()
    expect(page.get_by_role("heading", name="Filtre")).to_be_visible()
    page.wait_for_timeout(1500)  # a loop would have sent the page back to the login by now
    expect(page).to_have_url(f"{base_url}/trainer")
    assert "udløbet" not in page.inner_text("body")
    no_sideways_scrolling(page)
    shoot(page, f"roles-01-trainer-start-{size}", full_page=True)
    no_axe_violations(page, f"trainer-start-{size}")

    # The dashboard, opened by hand, says 403 in Danish and points back; no login loop.
    page.goto(f"{base_url}/counsellor")
    expect(page.get_by_role("heading", name="Ingen adgang til rådgiverpanelet")).to_be_visible()
    expect(
        page.get_by_text(
            "Du er logget ind som træner, og den rolle giver ikke adgang til rådgiverpanelet."
        )
    ).to_be_visible()
    assert "udløbet" not in page.inner_text("body")
    expect(page.get_by_role("link", name="Gå til trænersiden")).to_have_attribute(
        "href", "/trainer"
    )
    shoot(page, f"roles-02-trainer-on-dashboard-403-{size}")
    no_axe_violations(page, f"trainer-on-dashboard-403-{size}")
    page.get_by_role("link", name="Gå til trænersiden").click()
    expect(page).to_have_url(f"{base_url}/trainer")

    page.get_by_role("button", name="Log ud").click()
    expect(page).to_have_url(f"{base_url}/counsellor")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_an_admin_lands_on_the_admin_pages_and_can_counsel_too(contexts, base_url):
    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-admin")
    expect(page).to_have_url(f"{base_url}/admin")
    expect(page.get_by_role("heading", level=2, name="Vagtplan")).to_be_visible()
    expect(page.get_by_text("Logget ind som demo-admin")).to_be_visible()
    # The token is in this tab's sessionStorage only, never in the address.
    assert "token" not in page.url and "eyJ" not in page.url
    page.get_by_role("link", name="Rådgiverpanel").click()
    expect(page).to_have_url(f"{base_url}/counsellor")
    expect(page.get_by_text("Logget ind som demo-admin")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Kø"))).to_be_visible()
    page.wait_for_timeout(1000)
    expect(page.get_by_role("button", name="Tag næste")).to_be_visible()


def test_the_admin_pages_refuse_in_danish_and_tell_401_from_403(contexts, base_url):
    page = contexts.new_page(LAPTOP)
    page.goto(f"{base_url}/admin")
    expect(page.get_by_text("Du er ikke logget ind. Log ind for at fortsætte.")).to_be_visible()
    expect(page.get_by_role("link", name="Gå til login")).to_have_attribute("href", "/counsellor")

    # A token the service no longer accepts: 401, "udløbet".
    page.evaluate("sessionStorage.setItem('counsellor.token', 'a.b.c')")
    page.reload()
    expect(page.get_by_text("Dit login er udløbet eller ikke gyldigt længere.")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('counsellor.token')") is None

    # A counsellor: 403, the role has no access, with the way back to the dashboard.
    login_counsellor(page, base_url)
    page.goto(f"{base_url}/admin")
    expect(page.get_by_role("heading", name="Ingen adgang til denne side")).to_be_visible()
    expect(
        page.get_by_text(
            "Du er logget ind som rådgiver, og den rolle giver ikke adgang til admin-siderne."
        )
    ).to_be_visible()
    page.wait_for_timeout(1500)
    expect(page).to_have_url(f"{base_url}/admin")
    assert "udløbet" not in page.inner_text("body")
    expect(page.get_by_role("link", name="Gå til rådgiverpanelet")).to_have_attribute(
        "href", "/counsellor"
    )
    shoot(page, "roles-03-counsellor-on-admin-403-1280")
    no_axe_violations(page, "counsellor-on-admin-403-1280")
    page.get_by_role("link", name="Gå til rådgiverpanelet").click()
    expect(page.get_by_text("Logget ind som demo")).to_be_visible()
    expect(page.get_by_role("button", name="Tag næste")).to_be_visible()


# -- the shift calendar -------------------------------------------------------------------------


def test_admin_adds_a_shift_open_now_and_the_chat_says_so(contexts, base_url, own_calendar):
    young = contexts.new_page(PHONE, phone=True)
    young.goto(f"{base_url}/")
    expect(young.locator("#service-status")).to_contain_text("ingen rådgiver på vagt")

    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-admin")
    expect(page.locator("#service-now")).to_have_text(
        "Lukket nu. Der er ingen kommende vagter i planen."
    )
    expect(page.get_by_text("Der er ingen faste vagter endnu.")).to_be_visible()

    # An empty time is refused next to its field, in Danish.
    page.get_by_role("button", name="Tilføj vagt").click()
    expect(page.locator("#w-start-error")).to_have_text("Skriv, hvornår vagten starter.")
    expect(page.locator("#w-start")).to_have_attribute("aria-invalid", "true")

    now = datetime.now(TZ)
    starts, ends = now - timedelta(hours=1), now + timedelta(hours=1)
    page.get_by_label("Ugedag").select_option(str(starts.weekday()))
    page.locator("#w-start").fill(starts.strftime("%H:%M"))
    # The service's own rule, shown next to the field it is about.
    page.locator("#w-end").fill(starts.strftime("%H:%M"))
    page.get_by_role("button", name="Tilføj vagt").click()
    expect(page.locator("#w-end-error")).to_have_text(
        "En vagt skal slutte på et andet tidspunkt, end den starter."
    )
    page.locator("#w-end").fill(ends.strftime("%H:%M"))
    page.locator("#w-counsellors").fill("2")
    page.get_by_role("button", name="Tilføj vagt").click()
    expect(page.locator("#weekly-form-ok")).to_contain_text("Vagten er tilføjet")
    row = page.locator("#weekly .row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(WEEKDAYS[starts.weekday()])
    expect(row).to_contain_text("2 rådgivere")
    expect(page.locator("#service-now")).to_have_text(
        f"Åben nu: 2 rådgivere på vagt til {clock_words(ends)}."
    )
    shoot(page, "admin-01-shift-open-now-1280", full_page=True)

    young.reload()
    expect(young.locator("#service-status")).to_have_text(
        f"Der er rådgivere på vagt nu til {clock_words(ends)}."
    )
    shoot(young, "admin-02-chat-sees-the-new-shift-360")

    # Edit: the shift now ends an hour later, and the chat says the new time.
    later = ends + timedelta(hours=1)
    page.get_by_role("button", name=re.compile(f"^Ret {WEEKDAYS[starts.weekday()]}")).click()
    expect(page.get_by_role("heading", name=re.compile("^Ret vagten"))).to_be_visible()
    expect(page.locator("#w-start")).to_have_value(starts.strftime("%H:%M"))
    page.locator("#w-end").fill(later.strftime("%H:%M"))
    page.get_by_role("button", name="Gem ændringer").click()
    expect(page.locator("#weekly-form-ok")).to_contain_text("Vagten er rettet")
    expect(page.locator("#service-now")).to_contain_text(f"til {clock_words(later)}.")
    young.reload()
    expect(young.locator("#service-status")).to_have_text(
        f"Der er rådgivere på vagt nu til {clock_words(later)}."
    )

    # Delete, asked inline first.
    page.get_by_role("button", name=re.compile(f"^Slet {WEEKDAYS[starts.weekday()]}")).click()
    page.get_by_role("button", name="Ja, slet").click()
    expect(page.locator("#weekly .row")).to_have_count(0)
    expect(page.locator("#service-now")).to_contain_text("Lukket nu")
    young.reload()
    expect(young.locator("#service-status")).to_contain_text("ingen rådgiver på vagt")


def test_admin_adds_edits_and_deletes_a_closed_date_and_an_extra_shift(
    contexts, base_url, own_calendar
):
    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-admin")
    open_section(page, "Lukkedage og ekstra vagter")
    expect(page.get_by_text("Der er ingen lukkedage eller ekstra vagter.")).to_be_visible()
    on_date = (datetime.now(TZ) + timedelta(days=30)).date()

    # A past date: the service's words, next to the date.
    page.locator("#x-date").fill((datetime.now(TZ) - timedelta(days=2)).date().isoformat())
    page.get_by_role("button", name="Tilføj", exact=True).click()
    expect(page.locator("#x-date-error")).to_have_text(
        "Datoen er passeret. Vælg i dag eller en senere dato."
    )

    page.locator("#x-date").fill(on_date.isoformat())
    page.get_by_label("Note (fx Juleaften)").fill("Personaledag")
    page.get_by_role("button", name="Tilføj", exact=True).click()
    expect(page.locator("#exception-form-ok")).to_contain_text("Lukket")
    expect(page.locator("#exceptions .row")).to_have_count(1)
    expect(page.locator("#exceptions .row")).to_contain_text("Personaledag")

    # The closed date becomes an extra shift.
    page.locator("#exceptions .row").get_by_role("button", name=re.compile("^Ret")).click()
    page.get_by_label("Ekstra vagt", exact=True).check()
    page.locator("#x-start").fill("10:00")
    page.locator("#x-end").fill("14:30")
    page.locator("#x-counsellors").fill("3")
    page.get_by_role("button", name="Gem ændringer").click()
    row = page.locator("#exceptions .row")
    expect(row).to_contain_text("Ekstra vagt kl. 10.00–14.30")
    expect(row).to_contain_text("3 rådgivere")
    shoot(page, "admin-03-exceptions-1280", full_page=True)
    no_axe_violations(page, "admin-exceptions-1280")

    phone = contexts.new_page(PHONE, phone=True)
    phone.goto(f"{base_url}/counsellor")
    phone.evaluate(
        "(token) => sessionStorage.setItem('counsellor.token', token)",
        page.evaluate("sessionStorage.getItem('counsellor.token')"),
    )
    phone.goto(f"{base_url}/admin#undtagelser")
    expect(phone.locator("#exceptions .row")).to_have_count(1)
    no_sideways_scrolling(phone)
    shoot(phone, "admin-04-exceptions-360", full_page=True)
    no_axe_violations(phone, "admin-exceptions-360")

    row.get_by_role("button", name=re.compile("^Slet")).click()
    page.get_by_role("button", name="Ja, slet").click()
    expect(page.locator("#exceptions .row")).to_have_count(0)


# -- users and the audit trail --------------------------------------------------------------------


def test_admin_creates_a_user_disables_it_and_the_audit_trail_shows_it(contexts, base_url):
    username = f"test-{secrets.token_hex(3)}"
    first_password = secrets.token_urlsafe(12)
    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-admin")
    open_section(page, "Brugere")
    expect(page.locator("#users .row", has_text="demo-traener")).to_contain_text("Træner")

    # Too short: the service's words, with the field's Danish name, next to the field.
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill("kort")
    page.get_by_role("button", name="Opret bruger").click()
    expect(page.locator("#u-password-error")).to_have_text(
        "Feltet „Adgangskode“ er for kort (mindst 12 tegn)."
    )
    page.get_by_label("Adgangskode", exact=True).fill(first_password)
    page.get_by_role("button", name="Opret bruger").click()
    expect(page.locator("#user-form-ok")).to_have_text(f"{username} er oprettet som rådgiver.")
    row = page.locator(f"#users .row[data-username='{username}']")
    expect(row).to_contain_text("Rådgiver")
    expect(row.locator(".badge").first).to_have_text("Aktiv")

    # The same name again: 409, next to the username.
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(first_password)
    page.get_by_role("button", name="Opret bruger").click()
    expect(page.locator("#u-username-error")).to_have_text("Brugernavnet er allerede taget.")
    page.get_by_label("Brugernavn", exact=True).fill("")
    page.get_by_label("Adgangskode", exact=True).fill("")

    # An admin cannot take away their own admin access (the service's rule, in the row).
    own = page.locator("#users .row[data-username='demo-admin']")
    own.get_by_role("button", name="Deaktivér: demo-admin").click()
    own.get_by_role("button", name="Ja, deaktivér").click()
    expect(own.locator(".error")).to_have_text(
        "Du kan ikke fjerne din egen admin-adgang. Bed en anden admin om det."
    )

    row.get_by_role("button", name=f"Deaktivér: {username}").click()
    expect(row.locator(".confirm")).to_contain_text("bliver logget ud med det samme")
    row.get_by_role("button", name="Ja, deaktivér").click()
    expect(page.locator("#users-ok")).to_have_text(
        f"{username} er deaktiveret og kan ikke logge ind."
    )
    expect(row.locator(".badge").first).to_have_text("Deaktiveret")
    shoot(page, "admin-05-users-1280", full_page=True)
    no_axe_violations(page, "admin-users-1280")

    other = contexts.new_page(PHONE, phone=True)
    log_in(other, base_url, username, first_password)
    expect(other.locator("#login-error")).to_have_text("Forkert brugernavn eller adgangskode.")
    expect(other).to_have_url(f"{base_url}/counsellor")

    # Enabled again, with a new password and the trainer role: lands on the trainer page.
    row.get_by_role("button", name=f"Aktivér: {username}").click()
    # The badge, not the row: the row's own "Aktivér" button also contains "Aktiv", and the next
    # step must wait until the list has been drawn again.
    expect(row.locator(".badge").first).to_have_text("Aktiv")
    new_password = secrets.token_urlsafe(12)
    row.get_by_role("button", name=f"Ny adgangskode: {username}").click()
    row.get_by_label(f"Ny adgangskode til {username} (mindst 12 tegn)").fill("kort")
    row.get_by_role("button", name="Gem adgangskode").click()
    expect(row.locator(".inline-form .error")).to_have_text(
        "Feltet „Adgangskode“ er for kort (mindst 12 tegn)."
    )
    row.get_by_label(f"Ny adgangskode til {username} (mindst 12 tegn)").fill(new_password)
    row.get_by_role("button", name="Gem adgangskode").click()
    expect(page.locator("#users-ok")).to_contain_text(f"{username} har fået en ny adgangskode")
    row.get_by_role("button", name=f"Skift rolle: {username}").click()
    row.get_by_label(f"Ny rolle for {username}").select_option("trainer")
    row.get_by_role("button", name="Gem rolle").click()
    expect(page.locator("#users-ok")).to_have_text(f"{username} er nu træner.")
    expect(row).to_contain_text("Træner")
    log_in(other, base_url, username, new_password)
    expect(other).to_have_url(f"{base_url}/trainer")
    expect(other.get_by_text(f"Logget ind som {username}")).to_be_visible()

    phone = contexts.new_page(PHONE, phone=True)
    log_in(phone, base_url, "demo-admin")
    expect(phone).to_have_url(f"{base_url}/admin")
    open_section(phone, "Brugere")
    expect(phone.locator(f"#users .row[data-username='{username}']")).to_be_visible()
    no_sideways_scrolling(phone)
    shoot(phone, "admin-06-users-360", full_page=True)
    no_axe_violations(phone, "admin-users-360")

    # The audit trail, filtered to the admin's user changes today.
    open_section(page, "Log")
    page.get_by_label("Bruger", exact=True).select_option(label="demo-admin")
    page.get_by_label("Handling").select_option(label="Deaktiverede en bruger")
    today = datetime.now(TZ).date().isoformat()
    page.get_by_label("Fra dato").fill(today)
    page.get_by_label("Til og med dato").fill(today)
    page.get_by_role("button", name="Vis", exact=True).click()
    rows = page.locator("#audit-rows tr")
    expect(rows.filter(has_text=f"Bruger: {username}")).to_have_count(1)
    for line in rows.all():
        expect(line).to_contain_text("demo-admin")
        expect(line).to_contain_text("Deaktiverede en bruger")
    expect(page.locator("#audit-count")).to_contain_text("efter filteret")
    shoot(page, "admin-07-audit-filtered-1280")

    page.get_by_label("Handling").select_option(label="Oprettede en bruger")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(rows.filter(has_text=f"Bruger: {username}")).to_have_count(1)
    expect(rows.first).to_contain_text("Oprettede en bruger")

    # All of the admin's actions: created, disabled, enabled, password, role.
    page.get_by_label("Handling").select_option("")
    page.get_by_role("button", name="Vis", exact=True).click()
    about = rows.filter(has_text=f"Bruger: {username}")
    expect(about).to_have_count(5)
    for action in (
        "Oprettede en bruger",
        "Deaktiverede en bruger",
        "Aktiverede en bruger",
        "Satte en ny adgangskode",
        "Skiftede en brugers rolle",
    ):
        # A regex is case-sensitive: "Aktiverede" is not found in "Deaktiverede".
        expect(about.filter(has_text=re.compile(action))).to_have_count(1)

    # A "to" date before "from" is refused next to the field.
    page.get_by_label("Til og med dato").fill(
        (datetime.now(TZ) - timedelta(days=1)).date().isoformat()
    )
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#a-to-error")).to_contain_text("skal ligge på eller efter")
    page.get_by_label("Til og med dato").fill(today)
    page.get_by_role("button", name="Vis", exact=True).click()
    shoot(page, "admin-08-audit-1280", full_page=True)
    no_axe_violations(page, "admin-audit-1280")

    open_section(phone, "Log")
    phone.get_by_label("Bruger", exact=True).select_option(label="demo-admin")
    phone.get_by_role("button", name="Vis", exact=True).click()
    expect(phone.locator("#audit-rows tr").first).to_be_visible()
    no_sideways_scrolling(phone)
    shoot(phone, "admin-09-audit-360")
    no_axe_violations(phone, "admin-audit-360")


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_the_shift_calendar_page_at_both_sizes(contexts, base_url, size, viewport):
    page = contexts.new_page(viewport, phone=viewport is PHONE)
    log_in(page, base_url, "demo-admin")
    expect(page).to_have_url(f"{base_url}/admin")
    expect(page.locator("#service-now")).not_to_be_empty()
    no_sideways_scrolling(page)
    shoot(page, f"admin-00-shifts-{size}", full_page=True)
    no_axe_violations(page, f"admin-shifts-{size}")
