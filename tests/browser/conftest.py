"""Drives Debian's Chromium with Playwright against the real stack (Rasa, actions, service)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.e2e.conftest import ROOT, api, live_stack  # noqa: F401  (fixtures reused, not copied)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE_SCRIPT = ROOT / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
COUNSELLOR = {"username": "demo", "password": "e2e-password"}
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 860}
NEUTRAL_SITE = "https://www.dr.dk/"
TIMEOUT_MS = 45_000  # Rasa on a busy two-core machine can take a while to answer
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing; `bash scripts/setup_browser.sh` installs it")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    browser = playwright_session.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Contexts:
    """Opens browser contexts that may only talk to the service; anything else is recorded."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.outside_requests: list[str] = []
        self.neutral_visits: list[str] = []
        self.dialogs: list[str] = []
        self._opened: list[BrowserContext] = []

    def new_page(self, viewport: dict[str, int], *, phone: bool = False) -> Page:
        context = self.browser.new_context(
            viewport=viewport,
            is_mobile=phone,
            has_touch=phone,
            locale="da-DK",
            timezone_id="Europe/Copenhagen",
            service_workers="block",
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", self._guard)
        self._opened.append(context)
        page = context.new_page()
        page.on("dialog", self._dialog)
        return page

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _guard(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base_url) or url.startswith("data:"):
            route.continue_()
        elif url.startswith(NEUTRAL_SITE):
            # The quick-exit target, answered here: the machine has no internet.
            self.neutral_visits.append(url)
            route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                body="<!doctype html><html lang='da'><title>DR</title><h1>Nyheder</h1></html>",
            )
        else:
            self.outside_requests.append(url)
            route.abort()

    def close(self) -> None:
        for context in self._opened:
            context.close()


@pytest.fixture
def contexts(browser: Browser, live_stack) -> Iterator[Contexts]:  # noqa: F811
    opened = Contexts(browser, live_stack.service_url)
    try:
        yield opened
    finally:
        opened.close()
    # No CDN, web font, tracker or analytics: the pages may only ever ask the service.
    assert opened.outside_requests == [], f"requests outside the service: {opened.outside_requests}"


@pytest.fixture
def base_url(live_stack) -> str:  # noqa: F811
    return live_stack.service_url


def shoot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def counsellor_headers(api: httpx.Client) -> dict[str, str]:  # noqa: F811
    response = api.post("/api/v1/auth/login", json=COUNSELLOR)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def empty_queue(api: httpx.Client) -> None:  # noqa: F811
    """Starts a test with nobody waiting, so positions and claims are the test's own."""
    headers = counsellor_headers(api)
    for _ in range(100):
        claimed = api.post("/api/v1/queue/claim", headers=headers)
        if claimed.status_code == 204:
            return
        assert claimed.status_code == 200, claimed.text
        closed = api.post(
            f"/api/v1/conversations/{claimed.json()['id']}/close",
            json={"outcome": "other"},
            headers=headers,
        )
        assert closed.status_code == 200, closed.text
    pytest.fail("could not empty the queue")


def kill_service(stack) -> None:
    """Kills the service process outright: a crash, not a graceful stop."""
    process = stack.processes.pop("service")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start_service_again(stack) -> None:
    stack.start_service()
    stack.wait_until_ready(timeout=120)


@pytest.fixture(autouse=True)
def service_running(live_stack) -> Iterator[None]:  # noqa: F811
    """A test that killed the service leaves it running again for the next one."""
    yield
    if "service" not in live_stack.processes:
        start_service_again(live_stack)


def login_counsellor(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn").fill(COUNSELLOR["username"])
    page.get_by_label("Adgangskode").fill(COUNSELLOR["password"])
    page.get_by_role("button", name="Log ind").click()
    page.get_by_text("Logget ind som demo").wait_for()


def start_chat(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("button", name="Start chatten").click()
    page.locator("#transcript .from-bot").first.wait_for()
