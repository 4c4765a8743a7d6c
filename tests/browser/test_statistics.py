"""The statistics page (issue #17) for leaders and admins, at 360 px and 1280 px: charts drawn,
the same numbers as tables, small cells shown as "<5" and never as 1-4, the CSV fetched with the
token in a header, a counsellor refused with the 403 gate, axe-core clean.

The dataset is made through the real API (young people start, ask for a counsellor, are
claimed, answered and closed, give feedback and are registered), never a mocked backend.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import COUNSELLOR, LAPTOP, PHONE, counsellor_headers, run_axe
from tests.utils.e2e import login, start

pytestmark = pytest.mark.browser

PASSWORD = COUNSELLOR["password"]  # the stack gives every demo user the same one
LEADER = "demo-leder"
SHOTS = Path(tempfile.gettempdir()) / "shots"  # looked at by hand; artifacts/ has the rest
SIZES = (("1280", LAPTOP), ("360", PHONE))
SMALL = re.compile(r"^[1-4]$")


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def ensure_leader(api: httpx.Client) -> None:
    admin = login(api, "demo-admin")
    users = api.get("/api/v1/users", headers=admin).json()
    if any(user["username"] == LEADER for user in users):
        return
    created = api.post(
        "/api/v1/users",
        json={"username": LEADER, "password": PASSWORD, "role": "leader"},
        headers=admin,
    )
    assert created.status_code == 201, created.text


def counsellor_conversation(
    api: httpx.Client, staff: dict[str, str], *, feedback: dict | None, registration: dict | None
) -> str:
    """A young person asks for a counsellor, is answered and the conversation closed."""
    body, young = start(api)
    handed = api.post(f"/api/v1/conversations/{body['id']}/handoff", headers=young)
    assert handed.status_code == 200, handed.text
    claimed = api.post("/api/v1/queue/claim", headers=staff)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["id"] == body["id"]
    replied = api.post(
        f"/api/v1/conversations/{body['id']}/reply",
        json={"text": "Hej, jeg er her nu. Fortæl, hvad der fylder."},
        headers=staff,
    )
    assert replied.status_code in (200, 201), replied.text
    closed = api.post(
        f"/api/v1/conversations/{body['id']}/close", json={"outcome": "talked"}, headers=staff
    )
    assert closed.status_code == 200, closed.text
    if feedback is not None:
        given = api.post(
            f"/api/v1/conversations/{body['id']}/feedback", json=feedback, headers=young
        )
        assert given.status_code == 201, given.text
    if registration is not None:
        saved = api.put(
            f"/api/v1/conversations/{body['id']}/registration", json=registration, headers=staff
        )
        assert saved.status_code == 200, saved.text
    return body["id"]


@pytest.fixture(scope="module")
def small_dataset(live_stack) -> Iterator[None]:
    """Six conversations: four with the bot only, two with a counsellor (feedback and a
    registration each), so nearly every count is 1-4 and must come back as "<5"."""
    with httpx.Client(base_url=live_stack.service_url, timeout=90) as api:
        ensure_leader(api)
        staff = counsellor_headers(api)
        # Nobody left waiting by an earlier test: the claims below are this dataset's own.
        for _ in range(50):
            claimed = api.post("/api/v1/queue/claim", headers=staff)
            if claimed.status_code == 204:
                break
            api.post(
                f"/api/v1/conversations/{claimed.json()['id']}/close",
                json={"outcome": "other"},
                headers=staff,
            )
        options = api.get("/api/v1/registration-options", headers=staff).json()
        topics = [option["value"] for option in options["topics"]]
        for _ in range(4):
            start(api)
        counsellor_conversation(
            api,
            staff,
            feedback={"helped": "ja", "write_again": "maaske", "rating": 4},
            registration={
                "topics": topics[:2],
                "age_band": options["age_bands"][1]["value"],
                "gender": options["genders"][0]["value"],
                "referral": options["referrals"][0]["value"],
            },
        )
        counsellor_conversation(
            api,
            staff,
            feedback={"helped": "lidt", "write_again": None, "rating": None},
            registration={
                "topics": topics[:1],
                "age_band": options["age_bands"][2]["value"],
                "gender": options["genders"][1]["value"],
                "referral": options["referrals"][1]["value"],
            },
        )
    yield


def no_sideways_page(page: Page) -> None:
    """The page itself never scrolls sideways; wide tables scroll inside their own box."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide on a {width} px screen"
    too_wide = page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => !el.closest('.table-wrap') && el.getClientRects().length
                && el.getBoundingClientRect().right > width + 1)
            .map(el => el.id || el.className || el.tagName)""",
        width,
    )
    assert too_wide == [], f"wider than the screen: {too_wide}"


def charts_drawn(page: Page) -> int:
    cards = page.locator(".chart-card")
    expect(cards.first).to_be_visible()
    count = cards.count()
    assert count >= 10, count
    # Every chart has a visible heading, a summary in words and a labelled canvas with pixels.
    for table_id in ("volume", "topics", "risk_by_hour", "wait", "feedback_helped"):
        card = page.locator(f'.chart-card[data-table="{table_id}"]')
        expect(card.get_by_role("heading", level=2)).to_be_visible()
        expect(card.locator(".chart-summary")).not_to_be_empty()
        canvas = card.locator("canvas")
        expect(canvas).to_have_attribute("role", "img")
        expect(canvas).to_have_attribute("aria-label", re.compile(r"\S"))
        drawn = canvas.evaluate(
            """(canvas) => {
                const chart = window.Chart.getChart(canvas);
                if (!chart || canvas.width === 0 || canvas.height === 0) return false;
                const context = canvas.getContext('2d');
                const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
                return false;
            }"""
        )
        assert drawn, f"the {table_id} chart is empty"
        box = canvas.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    return count


def tables_say_under_five(page: Page) -> None:
    for details in page.locator("details.table-details").all():
        details.locator("summary").click()
    tables = page.locator("table.stats-table")
    assert tables.count() == page.locator(".chart-card").count()
    expect(tables.first).to_be_visible()
    # Hours with a counsellor on shift count hours, not people: the one table never suppressed.
    people = page.locator('.chart-card:not([data-table="service_hours"]) table.stats-table td')
    cells = people.all_inner_texts()
    assert cells, "the tables are empty"
    assert "<5" in cells, "no suppressed cell shown in this small dataset"
    small = [text for text in cells if SMALL.match(text.strip())]
    assert small == [], f"numbers 1-4 shown in the tables: {small}"
    expect(page.get_by_text("Tal under 5 vises ikke.").first).to_be_visible()
    # Each table is a real one: a caption, column headers and row headers.
    first = tables.first
    expect(first.locator("caption")).not_to_be_empty()
    assert first.locator("thead th[scope=col]").count() >= 2
    assert first.locator("tbody th[scope=row]").count() >= 1


@pytest.mark.parametrize(("size", "viewport"), SIZES)
@pytest.mark.parametrize("username", ["demo-admin", LEADER])
def test_statistics_page_for_leaders_and_admins(
    contexts, base_url, small_dataset, username, size, viewport
):
    page = contexts.new_page(viewport, phone=viewport is PHONE)
    log_in(page, base_url, username)
    if username == LEADER:
        # A leader's start page is the statistics.
        expect(page).to_have_url(f"{base_url}/statistics")
    else:
        expect(page).to_have_url(f"{base_url}/admin")
        page.get_by_role("link", name="Statistik").click()
        expect(page).to_have_url(f"{base_url}/statistics")
    expect(page.get_by_role("heading", level=1, name="Statistik over chatten")).to_be_visible()
    expect(page.get_by_text(f"Logget ind som {username}")).to_be_visible()
    admin_link = page.get_by_role("link", name="Admin", exact=True)
    if username == LEADER:
        expect(admin_link).to_be_hidden()
    else:
        expect(admin_link).to_be_visible()
    expect(page.locator("#stats-state")).to_contain_text("Viser uge")
    assert "token" not in page.url and "eyJ" not in page.url
    charts_drawn(page)
    no_sideways_page(page)
    shot(page, f"statistics-{username}-{size}-charts", full_page=False)
    shot(page, f"statistics-{username}-{size}-full")

    tables_say_under_five(page)
    no_sideways_page(page)
    shot(page, f"statistics-{username}-{size}-tables")
    violations = run_axe(page, f"statistics-{username}-{size}")
    assert violations == [], violations

    # The CSV: fetched with the token in the header, saved from a Blob.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Hent som CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    assert not download.url.startswith("http"), download.url  # a blob:, never a URL with a token
    content = Path(download.path()).read_text(encoding="utf-8-sig")
    assert "<5" in content
    expect(page.locator("#csv-state")).to_contain_text("er hentet")

    # Another period in months redraws the page with the service's answer.
    page.get_by_label("Vis pr.").select_option("month")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#stats-state")).to_contain_text("pr. måned")
    charts_drawn(page)


def test_a_counsellor_gets_the_403_gate(contexts, base_url):
    page = contexts.new_page(LAPTOP)
    page.goto(f"{base_url}/statistics")
    expect(page.get_by_text("Du er ikke logget ind. Log ind for at fortsætte.")).to_be_visible()
    log_in(page, base_url, COUNSELLOR["username"])
    page.get_by_text("Logget ind som demo").wait_for()
    page.goto(f"{base_url}/statistics")
    expect(page.get_by_role("heading", name="Ingen adgang til denne side")).to_be_visible()
    expect(
        page.get_by_text(
            "Du er logget ind som rådgiver, og den rolle giver ikke adgang til statistiksiden."
        )
    ).to_be_visible()
    expect(page.locator("#content")).to_be_hidden()
    expect(page.get_by_role("link", name="Gå til rådgiverpanelet")).to_have_attribute(
        "href", "/counsellor"
    )
    shot(page, "statistics-counsellor-403-1280", full_page=False)
    violations = run_axe(page, "statistics-counsellor-403")
    assert violations == [], violations


def test_a_leader_has_no_dashboard(contexts, base_url, small_dataset):
    page = contexts.new_page(PHONE, phone=True)
    log_in(page, base_url, LEADER)
    expect(page).to_have_url(f"{base_url}/statistics")
    page.goto(f"{base_url}/counsellor")
    expect(page.get_by_role("heading", name="Ingen adgang til rådgiverpanelet")).to_be_visible()
    expect(page.get_by_role("link", name="Gå til statistiksiden")).to_have_attribute(
        "href", "/statistics"
    )
