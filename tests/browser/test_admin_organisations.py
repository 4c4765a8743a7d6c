"""The admin page for several organisations (docs/organisations.md): an organisation's admin sees
and edits only their own organisation's calendar and users; a platform admin picks which."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.utils.browser import COUNSELLOR, LAPTOP, PHONE, shoot
from tests.utils.e2e import login

pytestmark = pytest.mark.browser

PASSWORD = COUNSELLOR["password"]


def make_municipality(api: httpx.Client) -> tuple[str, str, str]:
    """A municipality of its own and its admin: (slug, name, admin username)."""
    admin = login(api, "demo-admin")
    suffix = secrets.token_hex(3)
    slug, name = f"testby-{suffix}", f"Testby {suffix} Kommune"
    created = api.post(
        "/api/v1/organisations",
        json={"slug": slug, "name": name, "kind": "municipality"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    username = f"admin-{suffix}"
    user = api.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": PASSWORD,
            "role": "admin",
            "organisation": slug,
        },
        headers=admin,
    )
    assert user.status_code == 201, user.text
    return slug, name, username


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def test_an_organisation_admin_edits_only_their_own_calendar(contexts, base_url, api):
    slug, name, username = make_municipality(api)
    page = contexts.new_page(PHONE)
    log_in(page, base_url, username)
    expect(page.get_by_role("heading", level=2, name="Vagtplan")).to_be_visible()
    picker = page.get_by_label("Organisation")
    expect(picker).to_be_disabled()
    expect(picker.locator("option")).to_have_count(1)
    expect(picker.locator("option")).to_have_text(name)
    expect(page.locator("#org-hint")).to_have_text(
        f"Du er admin for {name} og kan kun ændre dens vagter og brugere."
    )
    # Their calendar is empty: the shared network's evening shifts are not theirs.
    expect(page.get_by_text("Der er ingen faste vagter endnu.")).to_be_visible()

    page.get_by_label("Ugedag").select_option("3")
    page.locator("#w-start").fill("16:00")
    page.locator("#w-end").fill("18:00")
    page.get_by_role("button", name="Tilføj vagt").click()
    expect(page.locator("#weekly-form-ok")).to_have_text(
        "Vagten er tilføjet: torsdag kl. 16.00–18.00."
    )
    shoot(page, "admin-organisation-360")

    # The shift is the municipality's, not the default organisation's, and its page says so.
    admin = login(api, "demo-admin")
    own = api.get(f"/api/v1/shifts?organisation={slug}", headers=admin).json()
    assert [(s["weekday"], s["starts_at"]) for s in own["weekly"]] == [(3, "16:00:00")]
    default = api.get("/api/v1/shifts", headers=admin).json()
    assert (3, "16:00:00") not in [(s["weekday"], s["starts_at"]) for s in default["weekly"]]
    public = api.get(f"/api/v1/organisations/{slug}").json()
    assert public["hours"] == [{"weekday": 3, "weekday_name": "torsdag", "text": "kl. 16-18"}]

    # Users: only their own organisation's.
    page.get_by_role("navigation", name="Admin-sider").get_by_role("link", name="Brugere").click()
    expect(page.locator("#users .row")).to_have_count(1)
    expect(page.locator("#users .row").first).to_contain_text(username)
    expect(page.locator("#users")).not_to_contain_text("demo-admin")


def test_a_platform_admin_picks_the_organisation_whose_calendar_they_see(contexts, base_url, api):
    slug, name, _username = make_municipality(api)
    admin = login(api, "demo-admin")
    added = api.post(
        f"/api/v1/shifts/weekly?organisation={slug}",
        json={"weekday": 1, "starts_at": "15:00", "ends_at": "19:00", "counsellors": 1},
        headers=admin,
    )
    assert added.status_code == 201, added.text

    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-admin")
    expect(page.locator("#org-hint")).to_have_text(
        "Du er platform-admin: vælg, hvis vagtplan du vil se og ændre."
    )
    picker = page.get_by_label("Organisation")
    expect(picker).to_be_enabled()
    picker.select_option(slug)
    expect(page.locator("#weekly .row")).to_have_count(1)
    expect(page.locator("#weekly .row").first).to_contain_text("Tirsdag kl. 15.00–19.00")
    shoot(page, "admin-platform-1280")
