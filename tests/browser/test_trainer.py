"""The trainer's page (issue #14) and the counsellor's "Botten misforstod", on the real stack.

The model half (train, compare, promote, restore, cancel) runs on a stack of its own on the
tiny fixture (tests/utils/model_loop.py), so its trainings never touch the repository's models,
reports or data. The inbox: items are made by young people writing to the real bot (messages it
is unsure about, docs/trainer.md) and by a counsellor flagging a bot line on the dashboard; never
a mocked backend. Labelled by keyboard and undone, a batch discarded, the 403 gate for a
counsellor, the scrubbing visible on the page, axe-core clean, screenshots at 360 px and 1280 px
in /tmp/shots.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import COUNSELLOR, LAPTOP, PHONE, Contexts, run_axe
from tests.utils.e2e import login, start
from tests.utils.model_loop import FIXTURE, first_model, model_loop_stack

pytestmark = pytest.mark.browser

PASSWORD = COUNSELLOR["password"]  # the stack gives every demo user the same one
SHOTS = Path(tempfile.gettempdir()) / "shots"  # looked at by hand
INBOX = "/api/v1/trainer/inbox"
# Short, vague messages the bot is unsure about (nlu_fallback or a low, split confidence), so
# they go into the inbox; more than needed, because another model may be sure about some.
UNSURE = (
    "måske",
    "hmm",
    "hvad",
    "øhh",
    "mja",
    "hva så",
    "nåh okay",
    "jaaa men",
    "ved ikk helt",
    "pff",
    "altså",
    "hmm ja nej",
)
PHONE_TEXT = "han ringer til mig på 22 33 44 55 hele tiden og jeg ved ikke hvad jeg skal"


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill(username)
    page.get_by_label("Adgangskode", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()


def no_axe_violations(page: Page, name: str) -> None:
    violations = run_axe(page, name)
    assert violations == [], violations


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


@pytest.fixture
def fresh_inbox(live_stack) -> None:
    """Each test starts with an empty inbox (the stack is shared by every browser test)."""
    path = live_stack.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=30)) as connection, connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("DELETE FROM trainer_inbox_items")


def trainer(api: httpx.Client) -> dict[str, str]:
    return login(api, "demo-traener")


def inbox(api: httpx.Client, **params) -> list[dict]:
    response = api.get(INBOX, params=params, headers=trainer(api))
    assert response.status_code == 200, response.text
    return response.json()


def unsure_items(api: httpx.Client, wanted: int) -> list[dict]:
    """Young people write vague messages to the bot until `wanted` are in the inbox."""
    for text in UNSURE:
        body, young = start(api)
        sent = api.post(
            f"/api/v1/conversations/{body['id']}/messages", json={"text": text}, headers=young
        )
        assert sent.status_code == 200, sent.text
        items = inbox(api)
        if len(items) >= wanted:
            return items
    pytest.fail(f"the bot was sure about too many messages: {[i['text'] for i in inbox(api)]}")


def item_ids(page: Page) -> list[int]:
    return [
        int(i) for i in page.locator("#items > li").evaluate_all("n => n.map(x => x.dataset.id)")
    ]


def focused_id(page: Page) -> int | None:
    value = page.evaluate("document.activeElement && document.activeElement.dataset.id")
    return int(value) if value else None


def open_trainer_page(page: Page, base_url: str, count: int) -> None:
    log_in(page, base_url, "demo-traener")
    expect(page).to_have_url(f"{base_url}/trainer")
    expect(page.get_by_role("heading", level=1, name="Indbakke")).to_be_visible()
    expect(page.locator("#items > li")).to_have_count(count)


def test_the_inbox_lowest_confidence_first_labelled_by_keyboard_and_undone(
    contexts, base_url, api, fresh_inbox
):
    items = unsure_items(api, 3)
    confidences = [item["confidence"] for item in items]
    assert confidences == sorted(confidences), "the API sorts lowest confidence first"
    page = contexts.new_page(LAPTOP)
    open_trainer_page(page, base_url, len(items))

    # Lowest confidence first, as the API says; each with what the trainer needs to judge it.
    assert item_ids(page) == [item["id"] for item in items]
    first = items[0]
    card = page.locator("#items > li").first
    expect(card.locator(".item-text")).to_have_text(first["text"])
    expect(card).to_contain_text("Set 1 gang")
    expect(card).to_contain_text(f"{round(first['confidence'] * 100)} % sikker")
    expect(card).to_contain_text(first["predicted_intent"])
    expect(card.locator(".reasons")).to_contain_text("Under tærsklen")
    for position, alternative in enumerate(first["alternatives"], start=1):
        expect(card.locator(".choice-button").nth(position - 1)).to_contain_text(f"{position} ")
        assert alternative["intent"] in card.locator(".choice-button").nth(
            position - 1
        ).get_attribute("aria-label")
    expect(page.get_by_text("kan afsløre nogen")).to_be_visible()
    expect(page.get_by_text("Fortryd det sidste")).to_be_visible()  # the keys, said on the page
    # The model half, below the inbox (its own test below, on a stack of its own).
    expect(page.get_by_role("heading", name="Ny model")).to_be_visible()
    no_axe_violations(page, "trainer-inbox-1280")
    shot(page, "trainer-01-inbox-1280")

    # j / k move between the items.
    card.focus()
    assert focused_id(page) == items[0]["id"]
    page.keyboard.press("j")
    assert focused_id(page) == items[1]["id"]
    page.keyboard.press("ArrowDown")
    assert focused_id(page) == items[2]["id"]
    page.keyboard.press("k")
    page.keyboard.press("ArrowUp")
    assert focused_id(page) == items[0]["id"]

    # "2" gives the first item the bot's second guess; it leaves the open list.
    second_guess = first["alternatives"][1]["intent"]
    page.keyboard.press("2")
    expect(page.locator("#message")).to_contain_text("har nu emnet")
    expect(page.locator("#message")).to_contain_text(second_guess)
    expect(page.locator("#items > li")).to_have_count(len(items) - 1)
    assert first["id"] not in item_ids(page)
    assert focused_id(page) == items[1]["id"], "focus moves on to the next item"
    accepted = {item["id"]: item for item in inbox(api, status="accepted")}
    assert accepted[first["id"]]["label"] == second_guess
    shot(page, "trainer-02-labelled-1280", full_page=False)

    # u undoes it: open again, no label, back in the list with focus on it.
    page.keyboard.press("u")
    expect(page.locator("#message")).to_contain_text("Fortrudt: Beskeden er åben igen")
    expect(page.locator("#items > li")).to_have_count(len(items))
    expect(page.locator(f"#items > li[data-id='{first['id']}']")).to_be_focused()
    reopened = {item["id"]: item for item in inbox(api)}[first["id"]]
    assert reopened["status"] == "open" and reopened["label"] is None

    # Enter = Korrekt: the bot's own guess becomes the label; the button undoes it too.
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_contain_text("accepteret som")
    accepted = {item["id"]: item for item in inbox(api, status="accepted")}
    assert accepted[first["id"]]["label"] == first["predicted_intent"]
    page.get_by_role("button", name="Fortryd", exact=True).click()
    expect(page.locator("#message")).to_contain_text("Fortrudt")
    assert {item["id"] for item in inbox(api)} >= {first["id"]}

    # x discards the focused one; the status filter shows it among the discarded.
    page.locator(f"#items > li[data-id='{items[1]['id']}']").focus()
    page.keyboard.press("x")
    expect(page.locator("#message")).to_contain_text("Beskeden er kasseret")
    assert [i["id"] for i in inbox(api, status="discarded")] == [items[1]["id"]]
    page.get_by_label("Status").select_option("discarded")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#items > li")).to_have_count(1)
    expect(page.locator("#items > li").first).to_contain_text("Kasseret")

    # A confidence range: checked in the page, then the same items as the API gives.
    page.get_by_role("button", name="Nulstil filtre").click()
    page.get_by_label("Sikkerhed fra (%)").fill("50")
    page.get_by_label("Sikkerhed til (%)").fill("10")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#f-confidence-error")).to_have_text(
        "„Sikkerhed fra“ skal være mindre end eller lig med „Sikkerhed til“."
    )
    top = math.ceil(items[0]["confidence"] * 100)
    page.get_by_label("Sikkerhed fra (%)").fill("")
    page.get_by_label("Sikkerhed til (%)").fill(str(top))
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#f-confidence-error")).to_be_empty()
    wanted = [item["id"] for item in inbox(api, max_confidence=top / 100)]
    assert items[0]["id"] in wanted
    expect(page.locator("#items > li")).to_have_count(len(wanted))
    assert item_ids(page) == wanted


def test_a_batch_of_two_is_discarded_on_a_phone(contexts, base_url, api, fresh_inbox):
    items = unsure_items(api, 3)
    page = contexts.new_page(PHONE, phone=True)
    open_trainer_page(page, base_url, len(items))
    no_sideways_scrolling(page)
    no_axe_violations(page, "trainer-inbox-360")
    shot(page, "trainer-03-inbox-360")

    page.get_by_label("Vælg besked 1", exact=True).check()
    page.get_by_label("Vælg besked 2", exact=True).check()
    expect(page.locator("#batch-count")).to_have_text("2 valgt")
    shot(page, "trainer-04-two-selected-360", full_page=False)
    page.get_by_role("button", name="Kassér valgte").click()
    expect(page.locator("#message")).to_contain_text("2 beskeder er kasseret")
    expect(page.locator("#items > li")).to_have_count(len(items) - 2)
    discarded = {item["id"] for item in inbox(api, status="discarded")}
    assert discarded == {items[0]["id"], items[1]["id"]}

    page.keyboard.press("u")
    expect(page.locator("#message")).to_contain_text("2 beskeder er åbne igen")
    expect(page.locator("#items > li")).to_have_count(len(items))
    assert inbox(api, status="discarded") == []


def test_a_counsellor_gets_the_403_gate_and_the_api_says_403(contexts, base_url, api):
    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, COUNSELLOR["username"])
    expect(page.get_by_text("Logget ind som demo")).to_be_visible()
    page.goto(f"{base_url}/trainer")
    expect(page.get_by_role("heading", name="Ingen adgang til denne side")).to_be_visible()
    expect(
        page.get_by_text(
            "Du er logget ind som rådgiver, og den rolle giver ikke adgang til trænersiden."
        )
    ).to_be_visible()
    expect(page.get_by_role("link", name="Gå til rådgiverpanelet")).to_have_attribute(
        "href", "/counsellor"
    )
    expect(page.locator("#content")).to_be_hidden()
    no_axe_violations(page, "trainer-gate-counsellor")
    counsellor = login(api, COUNSELLOR["username"])
    assert api.get(INBOX, headers=counsellor).status_code == 403
    assert (
        api.post(
            f"{INBOX}/batch", json={"ids": [1], "discard": True}, headers=counsellor
        ).status_code
        == 403
    )


def test_botten_misforstod_sends_the_young_persons_message_scrubbed(
    contexts, base_url, api, fresh_inbox, empty_queue
):
    # A young person writes to the bot (a phone number in it), then asks for a counsellor.
    body, young = start(api)
    sent = api.post(
        f"/api/v1/conversations/{body['id']}/messages", json={"text": PHONE_TEXT}, headers=young
    )
    assert sent.status_code == 200, sent.text
    handed = api.post(f"/api/v1/conversations/{body['id']}/handoff", headers=young)
    assert handed.status_code == 200, handed.text

    dashboard = contexts.new_page(PHONE, phone=True)
    log_in(dashboard, base_url, COUNSELLOR["username"])
    expect(dashboard.get_by_text("Logget ind som demo")).to_be_visible()
    dashboard.get_by_role("button", name="Tag næste").click()
    expect(dashboard.locator("#conv-state")).to_contain_text("Du har samtalen")
    dashboard.get_by_label("Dit svar til den unge").fill("Hej, jeg er her nu.")
    dashboard.get_by_role("button", name="Send svar").click()
    transcript = dashboard.locator("#transcript")
    expect(transcript.locator(".from-counsellor")).to_have_count(1)

    # Only bot lines have the button, once per answer: under the first line after the young
    # person's message (not under the greeting, which follows no message).
    expect(transcript.locator(".from-bot").first).to_be_visible()
    expect(transcript.locator(".from-bot").first.locator(".flag-bot")).to_be_hidden()
    expect(transcript.locator(".flag-bot:visible")).to_have_count(
        transcript.locator(".from-young + .from-bot").count()
    )
    expect(transcript.locator(".from-young .flag-bot")).to_have_count(0)
    expect(transcript.locator(".from-counsellor .flag-bot")).to_have_count(0)

    answer = transcript.locator(
        "xpath=//li[contains(@class,'from-young')][contains(., '22 33 44 55')]"
        "/following-sibling::li[contains(@class,'from-bot')][1]"
    )
    button = answer.get_by_role("button", name="Botten misforstod")
    button.focus()
    dashboard.keyboard.press("Enter")  # keyboard reachable
    expect(answer).to_contain_text("Tak – beskeden er sendt til træneren")
    expect(button).to_be_disabled()
    no_axe_violations(dashboard, "dashboard-flag-360")
    shot(dashboard, "trainer-05-dashboard-flagged-360", full_page=False)
    answer.scroll_into_view_if_needed()
    dashboard.screenshot(path=str(SHOTS / "trainer-06-dashboard-flag-line-360.png"))

    # Closed, the conversation is no longer the counsellor's to flag: the buttons go.
    dashboard.get_by_role("button", name="Afslut samtale").click()
    expect(dashboard.locator("#conv-state")).to_contain_text("Samtalen er afsluttet")
    expect(transcript.locator(".flag-bot:visible")).to_have_count(0)

    # In the inbox, scrubbed: the number is gone, the placeholder is there.
    flagged = inbox(api, reason="counsellor_flag")
    assert len(flagged) == 1, flagged
    assert "[TELEFON]" in flagged[0]["text"] and "22 33 44 55" not in flagged[0]["text"]

    page = contexts.new_page(LAPTOP)
    log_in(page, base_url, "demo-traener")
    expect(page).to_have_url(f"{base_url}/trainer")
    page.get_by_label("Grund").select_option("counsellor_flag")
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.locator("#items > li")).to_have_count(1)
    card = page.locator("#items > li").first
    expect(card.locator(".item-text")).to_contain_text("[TELEFON]")
    expect(card.locator(".reasons")).to_contain_text("Rådgiver: botten misforstod")
    assert "22 33 44 55" not in page.inner_text("body")
    no_axe_violations(page, "trainer-flagged-1280")
    shot(page, "trainer-07-flagged-item-1280")


# -- the model half: train, compare, promote, restore, cancel ---------------------------------


@pytest.fixture(scope="module")
def model_stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("trainer-models")
    first = first_model(work)
    # The next candidate learns from more examples: the gate lets it through.
    (work / "nlu" / "nlu.yml").write_bytes((FIXTURE / "nlu_full.yml").read_bytes())
    stack = model_loop_stack(work, first, PASSWORD)
    stack.start()
    try:
        stack.wait_until_ready(timeout=300)
        yield stack, first
    finally:
        stack.stop_all()


@pytest.mark.skipif(
    os.environ.get("MODEL_LOOP") != "1",
    reason="two real trainings on a stack of its own (2-5 min): make test-model-loop",
)
def test_train_compare_promote_restore_and_cancel_on_the_page(browser, model_stack) -> None:
    stack, first = model_stack
    contexts = Contexts(browser, stack.service_url)
    try:
        page = contexts.new_page(LAPTOP)
        log_in(page, stack.service_url, "demo-traener")
        expect(page).to_have_url(f"{stack.service_url}/trainer")
        section = page.locator("#model")
        expect(section.get_by_role("heading", name="Ny model")).to_be_visible()
        expect(page.locator("#train-status")).to_have_text("Ingen træning er i gang.")
        expect(page.locator("#comparison-empty")).to_be_visible()

        # Train: the polled status shows the job's steps, then the comparison appears.
        start_button = section.get_by_role("button", name="Træn og sammenlign")
        start_button.click()
        expect(start_button).to_be_disabled()
        expect(section.get_by_role("button", name="Stop træningen")).to_be_visible()
        expect(page.locator("#train-status")).to_contain_text("I gang i")
        shot(page, "trainer-10-training-1280", full_page=False)
        expect(page.locator("#train-status")).to_contain_text(
            "Sidste træning blev færdig", timeout=240_000
        )
        expect(page.locator("#comparison-verdict")).to_have_text(
            "Kandidaten består kontrollen og kan tages i brug."
        )
        row = page.locator("#comparison-table tbody tr").first
        expect(row.locator("th")).to_have_text("test_nlu")
        expect(row).to_contain_text("→")  # both models' figures
        # The plots, fetched with the login header and drawn: four canvases with pixels.
        expect(page.locator("#plots canvas")).to_have_count(4)
        widths = page.locator("#plots canvas").evaluate_all("cs => cs.map(c => c.width)")
        assert all(width > 100 for width in widths), widths
        expect(page.get_by_role("img", name="F1 pr. emne for begge modeller, med forskellen"))
        # One intent's figures and confusions.
        page.locator("#intent-view summary").click()
        page.get_by_label("Emne", exact=True).select_option("suicidal")
        expect(page.locator("#intent-f1")).to_contain_text("(kandidat)")
        no_axe_violations(page, "trainer-comparison-1280")
        shot(page, "trainer-11-comparison-1280")

        # Promote: the running Rasa switches; the history shows it in use.
        page.get_by_role("button", name="Tag kandidaten i brug").click()
        expect(page.locator("#model-message")).to_contain_text("Kandidaten er i brug nu")
        history = page.locator("#history > li")
        expect(history).to_have_count(2)
        expect(history.first).to_contain_text("I brug nu")
        expect(history.nth(1)).to_contain_text(first.name)
        with httpx.Client(base_url=stack.service_url, timeout=30) as api:  # the API agrees
            models = api.get("/api/v1/trainer/models", headers=_trainer_login(api)).json()
        assert models["active"].startswith("candidates/") and first.name not in models["active"]

        # Restore the first model, by keyboard.
        restore = history.nth(1).get_by_role("button", name="Gendan denne model")
        restore.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#model-message")).to_contain_text("Modellen er gendannet")
        expect(history.nth(1)).to_contain_text("I brug nu")
        with httpx.Client(base_url=stack.service_url, timeout=30) as api:
            models = api.get("/api/v1/trainer/models", headers=_trainer_login(api)).json()
        assert models["active"] == f"candidates/{first.name}"

        # Cancel: a second training is stopped from the page.
        start_button.click()
        stop = section.get_by_role("button", name="Stop træningen")
        expect(stop).to_be_visible()
        expect(page.locator("#train-status")).to_contain_text("Træner kandidaten")
        stop.click()
        expect(page.locator("#train-status")).to_contain_text("Sidste træning blev stoppet")
        expect(stop).to_be_hidden()
        expect(start_button).to_be_enabled()
        shot(page, "trainer-12-cancelled-1280", full_page=False)

        # On a phone: nothing wider than the screen.
        phone = contexts.new_page(PHONE, phone=True)
        log_in(phone, stack.service_url, "demo-traener")
        expect(phone.locator("#comparison-table")).to_be_visible()
        expect(phone.locator("#plots canvas")).to_have_count(4)
        no_sideways_scrolling(phone)
        no_axe_violations(phone, "trainer-models-360")
        shot(phone, "trainer-13-models-360")
    finally:
        contexts.close()
    assert contexts.outside_requests == []


def _trainer_login(api: httpx.Client) -> dict[str, str]:
    response = api.post(
        "/api/v1/auth/login", json={"username": "demo-traener", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# -- the per-intent view ("Emnerne i træningsdata", docs/trainer.md "One intent") -------------

REPO = Path(__file__).resolve().parents[2]


def repo_examples() -> dict[str, list[str]]:
    """data/nlu as the stack's copy holds it at start: every intent's example texts."""
    from triage_core.nlu_files import strip_entities, yaml_intents

    examples: dict[str, list[str]] = {}
    for path in sorted((REPO / "data" / "nlu").glob("*.yml")):
        for intent, lines in yaml_intents(path.read_text(encoding="utf-8")):
            examples.setdefault(intent, []).extend(strip_entities(x) for x in lines)
    return examples


def danish_count(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def danish_decimal(value: float) -> str:
    """Two decimals as the page's Intl.NumberFormat("da-DK") writes them: Chromium rounds the
    shortest decimal of the number (0.835, not 0.83499...) half away from zero."""
    from decimal import ROUND_HALF_UP, Decimal

    shortest = Decimal(repr(value))
    return str(shortest.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)).replace(".", ",")


def open_intents(page: Page, base_url: str) -> None:
    log_in(page, base_url, "demo-traener")
    expect(page).to_have_url(f"{base_url}/trainer")
    expect(page.get_by_role("heading", name="Emnerne i træningsdata")).to_be_visible()


def test_every_intent_is_listed_and_one_shows_what_it_was_confused_with(contexts, base_url):
    """The trainer sees each intent's examples and cross-validation F1, opens the intent the
    last cross-validation got most wrong, and sees what it was read as with an example pair."""
    import json

    from triage_core.nlu_files import data_fingerprint
    from triage_core.taxonomy import INTENTS

    examples = repo_examples()
    report = json.loads((REPO / "reports" / "cross_validation.json").read_text("utf-8"))
    errors = report["errors"]
    gold_counts: dict[str, int] = {}
    for error in errors:
        gold_counts[error["gold"]] = gold_counts.get(error["gold"], 0) + 1
    intent = max(sorted(gold_counts), key=gold_counts.__getitem__)
    misread = [e for e in errors if e["gold"] == intent]
    read_as: dict[str, int] = {}
    for error in misread:
        read_as[error["predicted"]] = read_as.get(error["predicted"], 0) + 1
    other = min(read_as, key=lambda name: (-read_as[name], name))

    page = contexts.new_page(LAPTOP)
    open_intents(page, base_url)
    expect(page.locator("#cv-meta")).to_contain_text("Krydsvalidering i 5 dele")
    expect(page.locator("#cv-meta")).to_contain_text(
        f"på {danish_count(report['examples'])} eksempler"
    )
    # Marked as older than the data exactly when data/nlu changed after `make nlu-report`.
    files = {p.name: p.read_text("utf-8") for p in (REPO / "data" / "nlu").glob("*.yml")}
    older = " Træningsdata er ændret siden, så tallene er fra før ændringen."
    if data_fingerprint(files) == report["data_fingerprint"]:
        expect(page.locator("#cv-meta")).not_to_contain_text(older)
    else:
        expect(page.locator("#cv-meta")).to_contain_text(older)
    expect(page.locator("#intent-list > li")).to_have_count(len(INTENTS))
    for name in INTENTS:
        row = page.locator(f"#intent-list button[data-intent='{name}']")
        expect(row).to_contain_text(f"({name})")
        expect(row).to_contain_text(f"{danish_count(len(examples.get(name, [])))} eksempler")
        expect(row).to_contain_text(f"F1 {danish_decimal(report['per_intent'][name]['f1'])}")

    button = page.locator(f"#intent-list button[data-intent='{intent}']")
    button.click()
    heading = page.locator("#intent-detail-heading")
    expect(heading).to_contain_text(f"({intent})")
    expect(heading).to_be_focused()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#intent-detail-figures")).to_contain_text(
        f"{danish_count(len(examples[intent]))} eksempler"
    )
    first = page.locator("#read-as > li.confusion").first
    times = "1 gang" if read_as[other] == 1 else f"{read_as[other]} gange"
    expect(first.locator(".confusion-heading")).to_have_text(
        re.compile(rf"^Læst som .+ \({other}\): {times}$")
    )
    # An example pair: one of its examples the model took for the other intent, next to the
    # other intent's example most like it.
    pair = first.locator(".pair").first
    first_misread = next(e["text"] for e in misread if e["predicted"] == other)
    expect(pair.locator("q").first).to_have_text(first_misread)
    nearest_text = pair.locator("q").nth(1).inner_text()
    assert nearest_text in examples[other], nearest_text
    expect(page.locator("#taken-for > li").first).to_be_visible()

    # Searching its examples: the count says how many of them hold the word.
    word = "jeg"
    holding = [x for x in examples[intent] if word in x.casefold()]
    page.get_by_label("Søg i eksemplerne").fill(word)
    expect(page.locator("#examples-count")).to_have_text(
        f"{danish_count(len(holding))} af {danish_count(len(examples[intent]))} "
        f"eksempler indeholder “{word}”."
    )
    expect(page.locator("#examples > li")).to_have_count(len(holding))
    no_axe_violations(page, "trainer-intents-1280")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#intents").screenshot(path=str(SHOTS / "trainer-10-intents-1280.png"))


def test_a_label_written_into_the_data_shows_under_its_intent_on_a_phone(
    contexts, base_url, api, live_stack, fresh_inbox
):
    """Labelled on the page and written into data/nlu with the page's button: the intent has
    one example more, the new text is among its examples, and the page says the
    cross-validation figures are from before the change."""
    examples = repo_examples()
    known = {text.casefold() for texts in examples.values() for text in texts}
    items = unsure_items(api, 2)
    new = next((item for item in items if item["text"].casefold() not in known), None)
    if new is None:
        pytest.fail(f"every inbox text is in data/nlu already: {[i['text'] for i in items]}")
    intent = "out_of_scope"
    data_dir = Path(live_stack.service_env["NLU_DATA_DIR"])
    before = {path: path.read_bytes() for path in data_dir.glob("*.yml")}
    try:
        labelled = api.post(
            f"{INBOX}/{new['id']}/label", json={"intent": intent}, headers=trainer(api)
        )
        assert labelled.status_code == 200, labelled.text

        page = contexts.new_page(PHONE, phone=True)
        open_intents(page, base_url)
        row = page.locator(f"#intent-list button[data-intent='{intent}']")
        expect(row).to_contain_text(f"{danish_count(len(examples[intent]))} eksempler")
        page.get_by_role("button", name="Skriv accepterede beskeder ind i træningsdata").click()
        expect(page.get_by_text("1 besked er skrevet ind i træningsdata")).to_be_visible()
        expect(row).to_contain_text(f"{danish_count(len(examples[intent]) + 1)} eksempler")
        expect(page.locator("#cv-meta")).to_contain_text(
            "Træningsdata er ændret siden, så tallene er fra før ændringen."
        )
        row.click()
        page.get_by_label("Søg i eksemplerne").fill(new["text"])
        found = page.locator("#examples > li", has_text=new["text"])
        expect(found.first).to_be_visible()
        no_sideways_scrolling(page)
        no_axe_violations(page, "trainer-intents-360")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#intents").screenshot(path=str(SHOTS / "trainer-11-intents-export-360.png"))
    finally:
        for path in data_dir.glob("*.yml"):
            if path not in before:
                path.unlink()
        for path, content in before.items():
            path.write_bytes(content)
