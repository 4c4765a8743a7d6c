"""Sessions that last a shift (issue #13, part 2) in a real browser on the shared stack.

The access token is made to run out by replacing it in sessionStorage (what an expired one looks
like to the service: a 401); the page refreshes through the HttpOnly cookie and goes on without a
new login. Logging out revokes the login: a reload lands on the login form.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.utils.browser import COUNSELLOR, LAPTOP, login_counsellor

pytestmark = pytest.mark.browser

TOKEN_KEY = "counsellor.token"  # noqa: S105 - the sessionStorage key, not a secret
RAN_OUT = "eyJhbGciOiJIUzI1NiJ9.udloebet.x"  # a token the service refuses with 401


def refresh_cookie(page: Page) -> dict:
    cookies = [c for c in page.context.cookies() if c["name"] == "staff_refresh"]
    assert len(cookies) == 1, cookies
    return cookies[0]


def expire_access_token(page: Page) -> None:
    page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [TOKEN_KEY, RAN_OUT])


def test_an_expired_access_token_is_refreshed_silently_and_logout_ends_the_login(
    contexts, base_url, api, empty_queue
):
    page = contexts.new_page(LAPTOP)
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    login_counsellor(page, base_url)

    cookie = refresh_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/api/v1/auth"
    assert "staff_refresh" not in page.evaluate("document.cookie")  # no script can read it
    assert cookie["value"] not in page.evaluate("JSON.stringify({...sessionStorage})")
    assert page.evaluate("localStorage.length") == 0

    # 1. A reload with a token that ran out: the dashboard comes back without a login.
    expire_access_token(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    expect(page.get_by_text(f"Logget ind som {COUNSELLOR['username']}")).to_be_visible()
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") != RAN_OUT
    assert refresh_cookie(page)["value"] != cookie["value"]  # rotated

    # 2. The token runs out while the page is open: the next action refreshes and succeeds.
    created = api.post("/api/v1/conversations").json()
    young = {"Authorization": f"Bearer {created['token']}"}
    assert api.post(f"/api/v1/conversations/{created['id']}/handoff", headers=young).is_success
    expect(page.get_by_role("button", name="Tag næste")).to_be_enabled()
    expire_access_token(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/queue/claim")) as claimed:
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
            page.get_by_role("button", name="Tag næste").click()
        assert refreshed.value.status == 200
        # Other tests may have left this counsellor a conversation waiting: then it asks first.
        page.locator("#claim-anyway, #conversation-view").locator("visible=true").first.wait_for()
        if page.locator("#claim-anyway").is_visible():
            page.locator("#claim-anyway").click()
    assert claimed.value.status == 200
    expect(page.locator("#conversation-view")).to_be_visible()
    expect(page.locator("#login")).to_be_hidden()
    expect(page.locator("#dashboard")).to_be_visible()

    # No token of either kind ever went into a URL.
    tokens = [refresh_cookie(page)["value"], cookie["value"]]
    assert not [url for url in urls if any(token in url for token in tokens)]

    # 3. Logout revokes the login and clears the cookie: a reload shows the login form.
    with page.expect_navigation(url=f"{base_url}/counsellor"):  # the page goes to the login
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as logged_out:
            page.get_by_role("button", name="Log ud").click()
    assert logged_out.value.status == 204
    expect(page.get_by_label("Brugernavn")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Brugernavn")).to_be_visible()
    expect(page.locator("#dashboard")).to_be_hidden()
    assert not [c for c in page.context.cookies() if c["name"] == "staff_refresh"]
    status = page.evaluate(
        """() => fetch('/api/v1/auth/refresh', {method: 'POST', credentials: 'same-origin'})
              .then((r) => r.status)"""
    )
    assert status == 401


def test_the_trainer_page_refreshes_an_expired_token_too(contexts, base_url):
    page = contexts.new_page(LAPTOP)
    page.goto(f"{base_url}/counsellor")
    page.get_by_label("Brugernavn", exact=True).fill("demo-traener")
    page.get_by_label("Adgangskode", exact=True).fill(COUNSELLOR["password"])
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base_url}/trainer")
    expect(page.get_by_text("Logget ind som demo-traener")).to_be_visible()
    expire_access_token(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
        page.reload()
    assert refreshed.value.status == 200
    expect(page.get_by_text("Logget ind som demo-traener")).to_be_visible()
    expect(page.get_by_role("heading", name="Log ind")).to_have_count(0)
