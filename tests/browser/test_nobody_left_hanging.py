"""Nobody is left hanging (issue #13): "Mine samtaler" survives a reload and a new login, "Tag
næste" asks while a young person waits, and a claim nobody looks after goes back to the queue
with the young person's page saying so.

The stale-claim test runs against a small service of its own (no Rasa: the young person is
queued by the service's own fallback) with the threshold in seconds, so the real background job
warns and releases while the pages watch; the shared stack keeps the default ten minutes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.utils.browser import (
    AXE_SCRIPT,
    COUNSELLOR,
    LAPTOP,
    PHONE,
    Contexts,
    counsellor_headers,
    login_counsellor,
    run_axe,
    shoot,
    start_chat,
)
from tests.utils.e2e import free_port, stack_module

pytestmark = pytest.mark.browser

# The small stack: warned after 9 s without a sign of the counsellor, released after 30 s.
STALE_SECONDS = 30
WARN_AFTER_SECONDS = 9
WAITS = "Venter på dit svar"


def no_axe_violations(page: Page, name: str) -> None:
    if not AXE_SCRIPT.exists():
        pytest.fail("axe-core is missing; `bash scripts/setup_browser.sh` installs it")
    violations = run_axe(page, name)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


def waiting_young_person(api: httpx.Client, internal_token: str, text: str) -> str:
    """A young person who wrote and was handed off, through the API (the page is tested
    elsewhere): they wait for a counsellor's answer."""
    started = api.post("/api/v1/conversations")
    assert started.status_code == 201, started.text
    body = started.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    turn = api.post(
        f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=headers
    )
    assert turn.status_code == 200, turn.text
    handed = api.post(
        f"/internal/v1/conversations/{body['id']}/handoff",
        json={"intents": ["request_human"], "reason": "request_human"},
        headers={"X-Internal-Token": internal_token},
    )
    assert handed.status_code == 200, handed.text
    return body["id"]


def mine_rows(page: Page):
    return page.locator("#mine li")


def test_mine_samtaler_survives_reload_and_a_new_login_and_take_next_asks(
    contexts, base_url, api, live_stack, empty_queue
):
    first = waiting_young_person(api, live_stack.internal_token, "min far drikker hver dag")
    second = waiting_young_person(api, live_stack.internal_token, "jeg er ked af det")
    laptop = contexts.new_page(LAPTOP)
    login_counsellor(laptop, base_url)
    expect(laptop.get_by_role("heading", name=re.compile("Mine samtaler"))).to_be_visible()
    expect(laptop.get_by_text("Du har ingen åbne samtaler.")).to_be_visible()
    laptop.get_by_role("button", name="Tag næste").click()
    expect(laptop.locator("#conversation-view")).to_be_visible()
    expect(mine_rows(laptop)).to_have_count(1)
    expect(mine_rows(laptop).first).to_contain_text(WAITS)
    expect(mine_rows(laptop).first.locator("button")).to_have_attribute("aria-current", "true")

    # A reload: the list (and the open conversation) come back.
    laptop.reload()
    expect(laptop.get_by_text("Logget ind som demo")).to_be_visible()
    expect(laptop.locator("#conversation-view")).to_be_visible()
    expect(laptop.locator("#transcript")).to_contain_text("min far drikker hver dag")
    expect(mine_rows(laptop)).to_have_count(1)
    expect(mine_rows(laptop).first).to_contain_text(WAITS)
    shoot(laptop, "hanging-01-mine-after-reload-1280")

    # "Tag næste" while the young person waits: asked first, inline.
    laptop.get_by_role("button", name="Tag næste").click()
    confirm = laptop.locator("#claim-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Den unge i din åbne samtale venter på dit svar")
    assert contexts.dialogs == [], "no native confirm()"
    shoot(laptop, "hanging-02-take-next-asks-1280")
    no_axe_violations(laptop, "hanging-take-next-asks")
    laptop.get_by_role("button", name="Bliv i samtalen").click()
    expect(confirm).to_be_hidden()
    expect(laptop.locator("#queue li")).to_have_count(1)
    laptop.get_by_role("button", name="Tag næste").click()
    laptop.get_by_role("button", name="Tag næste alligevel").click()
    expect(laptop.locator("#queue li")).to_have_count(0)
    expect(mine_rows(laptop)).to_have_count(2)

    # An answer left for later stays under "Mine samtaler" too.
    laptop.get_by_label("Dit svar til den unge").fill("Jeg har læst det. Skriv igen, når du vil.")
    laptop.get_by_role("button", name="Efterlad svar til senere").click()
    expect(mine_rows(laptop).filter(has_text="Svar efterladt til senere")).to_have_count(1)

    # The login expires (here: logging out) and a new login finds the conversations again.
    laptop.get_by_role("button", name="Log ud").click()
    # Logging out ends the session on the server first, then shows the login form.
    expect(laptop.get_by_label("Brugernavn")).to_be_visible()
    login_counsellor(laptop, base_url)
    expect(laptop.get_by_role("heading", name="Ingen samtale åben")).to_be_visible()
    expect(mine_rows(laptop)).to_have_count(2)
    expect(mine_rows(laptop).nth(0)).to_contain_text(WAITS)
    expect(mine_rows(laptop).nth(1)).to_contain_text("Svar efterladt til senere")
    shoot(laptop, "hanging-03-mine-after-new-login-1280")
    no_axe_violations(laptop, "hanging-mine-after-login")
    mine_rows(laptop).nth(0).locator("button").click()
    expect(laptop.locator("#conversation-view")).to_be_visible()
    expect(laptop.locator("#transcript")).to_contain_text("min far drikker hver dag")
    expect(laptop.locator("#conv-state")).to_contain_text("Du har samtalen")

    # The same on a 360 px phone.
    phone = contexts.new_page(PHONE, phone=True)
    login_counsellor(phone, base_url)
    expect(mine_rows(phone)).to_have_count(2)
    phone.get_by_role("heading", name=re.compile("Mine samtaler")).scroll_into_view_if_needed()
    shoot(phone, "hanging-04-mine-360")
    no_axe_violations(phone, "hanging-mine-360")

    headers = counsellor_headers(api)
    for conversation_id in (first, second):
        api.post(
            f"/api/v1/conversations/{conversation_id}/close",
            json={"outcome": "other"},
            headers=headers,
        )


# -- a stale claim, with the real job on a small service of its own ------------------------------


@pytest.fixture(scope="module")
def small_stack(tmp_path_factory) -> Iterator:
    workdir = tmp_path_factory.mktemp("stale-stack")
    stack = stack_module.Stack(
        service_port=free_port(),
        rasa_port=free_port(),  # nothing listens: the service answers by itself and queues
        actions_port=free_port(),
        database_url=f"sqlite:///{workdir / 'handoff.db'}",
        log_dir=workdir / "log",
        service_env={
            "ENVIRONMENT": "test",
            "DEMO_COUNSELLOR_PASSWORD": COUNSELLOR["password"],
            "STALE_CLAIM_MINUTES": str(STALE_SECONDS / 60),
            "STALE_CLAIM_WARNING_MINUTES": str((STALE_SECONDS - WARN_AFTER_SECONDS) / 60),
            "STALE_CHECK_SECONDS": "1",
        },
    )
    stack.start_service()
    try:
        stack.wait_until_ready(timeout=120)
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture
def small_contexts(browser: Browser, small_stack) -> Iterator[Contexts]:
    opened = Contexts(browser, small_stack.service_url)
    try:
        yield opened
    finally:
        opened.close()
    assert opened.outside_requests == [], f"requests outside the service: {opened.outside_requests}"


def test_a_stale_claim_goes_back_to_the_queue_and_the_young_person_is_told(
    small_stack, small_contexts
):
    base_url = small_stack.service_url
    young = small_contexts.new_page(PHONE, phone=True)
    start_chat(young, base_url)
    young.get_by_label("Skriv din besked").fill(
        "min mor drikker, og jeg ved ikke hvad jeg skal gøre"
    )
    young.get_by_role("button", name="Send").click()
    expect(young.locator("#status-text")).to_contain_text("Du er nummer 1 i køen")

    # The holding counsellor's dashboard is open, the conversation itself is not (the tab with
    # it closed): only the dashboard feed can reach them.
    holder = small_contexts.new_page(LAPTOP)
    login_counsellor(holder, base_url)
    other = small_contexts.new_page(PHONE, phone=True)
    other.goto(f"{base_url}/counsellor")
    other.get_by_label("Brugernavn").fill("demo-admin")
    other.get_by_label("Adgangskode").fill(COUNSELLOR["password"])
    other.get_by_role("button", name="Log ind").click()
    # An admin lands on the admin pages; an admin who counsels goes on to the dashboard.
    other.get_by_role("link", name="Rådgiverpanel").click()
    other.get_by_text("Logget ind som demo-admin").wait_for()
    expect(other.get_by_role("button", name="Tag næste")).to_be_visible()

    with httpx.Client(base_url=base_url, timeout=30) as api:
        headers = counsellor_headers(api)
        claimed = api.post("/api/v1/queue/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        conversation_id = claimed.json()["id"]
        claimed_at = time.monotonic()
        expect(young.locator("#status-text")).to_contain_text("Du skriver med en rådgiver")
        expect(mine_rows(holder)).to_have_count(1)

        # The warning first, addressed to the holder only; "Jeg er her stadig" restarts the clock.
        warning = holder.locator("#stale-warning")
        expect(warning).to_be_visible(timeout=STALE_SECONDS * 1000)
        expect(warning).to_contain_text("venter på dit svar")
        expect(warning).to_contain_text("går samtalen tilbage i køen")
        expect(other.locator("#stale-warning")).to_be_hidden()
        shoot(holder, "hanging-05-warning-before-1280")
        no_axe_violations(holder, "hanging-warning")
        holder.get_by_role("button", name="Jeg er her stadig").click()
        expect(warning).to_be_hidden()
        time.sleep(max(0.0, claimed_at + STALE_SECONDS + 3 - time.monotonic()))
        mine = api.get("/api/v1/counsellor/mine", headers=headers).json()
        assert [row["id"] for row in mine] == [conversation_id], "kept: the counsellor is there"
        assert mine[0]["status"] == "active"

        # Nobody answers now: warned again, then back to the queue at the old place.
        expect(warning).to_be_visible(timeout=STALE_SECONDS * 1000)
        alert = holder.locator("#alert")
        expect(alert).to_contain_text(
            "Din samtale er sat tilbage i køen på sin gamle plads", timeout=STALE_SECONDS * 1000
        )
        expect(warning).to_be_hidden()
        expect(mine_rows(holder)).to_have_count(0)
        expect(holder.locator("#queue li")).to_have_count(1)
        shoot(holder, "hanging-06-released-holder-1280")
        expect(other.locator("#alert")).to_contain_text("En samtale er sat tilbage i køen")
        expect(other.locator("#queue li")).to_have_count(1)
        shoot(other, "hanging-07-released-other-counsellor-360")
        queue = api.get("/api/v1/queue", headers=headers).json()
        assert [item["id"] for item in queue] == [conversation_id]

    notice = young.locator("#notice")
    expect(notice).to_contain_text("Din rådgiver blev desværre afbrudt")
    expect(young.locator("#transcript .from-bot").last).to_contain_text(
        "Du er sat tilbage i køen på din gamle plads"
    )
    expect(young.locator("#status-text")).to_contain_text("Du er nummer 1 i køen")
    expect(young.locator("#status-text")).not_to_contain_text("Du skriver med en rådgiver")
    shoot(young, "hanging-08-young-person-told-360")
