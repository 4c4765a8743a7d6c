"""Helpers for the browser tests (Debian's Chromium driven by Playwright against the real stack):
viewports, browser contexts that may only talk to the service, screenshots, logins, axe-core."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.utils.e2e import ROOT

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
AXE_URL_PATH = "/__test__/axe.min.js"  # served by the test from build/npm, never from the internet
AXE_REPORTS = ROOT / "artifacts" / "axe"
# WCAG 2.1 A and AA, plus axe's best practices (landmarks, headings, one main).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
COUNSELLOR = {"username": "demo", "password": "e2e-password"}
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 860}
NEUTRAL_SITE = "https://www.dr.dk/"
TIMEOUT_MS = 45_000  # Rasa on a busy two-core machine can take a while to answer
expect.set_options(timeout=TIMEOUT_MS)


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


def shoot(page: Page, name: str, *, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def counsellor_headers(api: httpx.Client) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json=COUNSELLOR)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def kill_service(stack) -> None:
    """Kills the service process outright: a crash, not a graceful stop."""
    process = stack.processes.pop("service")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def start_service_again(stack) -> None:
    stack.start_service()
    stack.wait_until_ready(timeout=120)


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


def run_axe(page: Page, name: str) -> list[dict]:
    page.context.route(
        f"**{AXE_URL_PATH}",
        lambda route: route.fulfill(path=str(AXE_SCRIPT), content_type="application/javascript"),
    )
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL_PATH)
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]],
        }
        for v in results["violations"]
    ]
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(violations, indent=2, ensure_ascii=False))
    return violations
