"""Drives Debian's Chromium with Playwright against the real stack (Rasa, actions, service).

Fixtures only (and the reset they need): the stack (`live_stack`, `api`) is shared with tests/e2e
through tests/conftest.py, which also starts again a service a test killed; the helpers are in
tests/utils/browser.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.utils.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Contexts,
    counsellor_headers,
)


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


def forget_all_conversations(database_url: str) -> None:
    """Every browser test on the shared stack starts with no conversation at all: one a
    test left claimed or answered for later would sit in "Mine samtaler" and make the next
    test's "Tag næste" ask first (handoff_service/static/assets/counsellor.js)."""
    path = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=30)) as connection, connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("DELETE FROM conversations")


@pytest.fixture
def contexts(browser: Browser, live_stack) -> Iterator[Contexts]:
    forget_all_conversations(live_stack.database_url)
    opened = Contexts(browser, live_stack.service_url)
    try:
        yield opened
    finally:
        opened.close()
    # No CDN, web font, tracker or analytics: the pages may only ever ask the service.
    assert opened.outside_requests == [], f"requests outside the service: {opened.outside_requests}"


@pytest.fixture
def base_url(live_stack) -> str:
    return live_stack.service_url


@pytest.fixture
def empty_queue(api: httpx.Client) -> None:
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
