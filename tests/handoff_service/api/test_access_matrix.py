"""The access matrix: every staff and internal route, every wrong credential, a Danish refusal.

The routes are read from the app (`fastapi.routing.iter_route_contexts`) and sorted by the
dependency that guards them (handoff_service/api/deps.py): a staff JWT (`current_user`), the
internal token (`internal_caller`) or a young person's conversation token (`young_conversation`,
`typing_party`). A new route is in the matrix the moment it exists; a new staff route whose path
no rule in ACCESS_RULES covers fails until someone decides who may use it.

Malformed tokens on a handful of routes are tests/handoff_service/api/test_token_forgery.py;
here each kind of wrong credential meets every route.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import jwt
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff_service.api import deps
from handoff_service.db import utcnow
from handoff_service.models import User
from handoff_service.security import create_access_token
from tests.utils.factories import make_user
from tests.utils.service import INTERNAL_TOKEN, login_headers, start
from tests.utils.tokens import b64, bearer, signed

STAFF_ROLES = frozenset({"counsellor", "trainer", "admin", "leader"})
NOT_LOGGED_IN = "Du er ikke logget ind, eller dit login er udløbet."
WRONG_ROLE = "Din rolle giver ikke adgang til dette."
REFUSED_INTERNALLY = "Intern API: forkert eller manglende nøgle."
NOT_YOURS = "Samtalen er ikke din lige nu. Tag den fra køen først."
LEADER_PASSWORD = "leder-kodeord-1234"  # noqa: S105 - test data

# Who may use a staff route, by path and method: the decision, readable in one place. The first
# rule that matches wins; the test checks it against the roles the route's dependencies allow.
ACCESS_RULES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (r"/api/v1/auth/.*", "*", STAFF_ROLES),
    (r"/api/v1/shifts", "GET", STAFF_ROLES),
    (r"/api/v1/shifts(/.*)?", "*", frozenset({"admin"})),
    (r"/api/v1/users(/.*)?", "*", frozenset({"admin"})),
    (r"/api/v1/audit", "*", frozenset({"admin"})),
    (r"/api/v1/organisations(/.*)?", "*", frozenset({"admin"})),
    (r"/api/v1/queue(/.*)?", "*", frozenset({"counsellor", "admin"})),
    # The shift's tools (handoff_service/shift_tools.py): canned replies, notes, transfer.
    (
        r"/api/v1/counsellor/(canned-replies|release-reasons|colleagues"
        r"|conversations/\{conversation_id\}/(notes|transfer))",
        "*",
        frozenset({"counsellor", "admin"}),
    ),
    (r"/api/v1/counsellor/.*", "*", frozenset({"counsellor", "admin"})),
    (
        r"/api/v1/conversations/\{conversation_id\}/(reply|release|close|anonymity-broken)",
        "*",
        frozenset({"counsellor", "admin"}),
    ),
    # Statistics (docs/statistics.md): the counsellor's registration after closing, its options
    # for every staff role, the tables and their export for the leader (and the admin).
    (
        r"/api/v1/conversations/\{conversation_id\}/registration",
        "*",
        frozenset({"counsellor", "admin"}),
    ),
    (r"/api/v1/registration-options", "GET", STAFF_ROLES),
    (r"/api/v1/statistics(/export\.csv)?", "GET", frozenset({"leader", "admin"})),
    # The trainer's inbox, its export into data/nlu (POST /api/v1/trainer/export; docs/trainer.md)
    # and the counsellor's "botten misforstod" that feeds it.
    (r"/api/v1/trainer/.*", "*", frozenset({"trainer", "admin"})),
    (
        r"/api/v1/conversations/\{conversation_id\}/messages/\{message_id\}/misunderstood",
        "POST",
        frozenset({"counsellor", "admin"}),
    ),
)
# /api/v1 routes anyone may call (the young person's start, pickup, public status, login).
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    # Authenticated by the HttpOnly refresh cookie, not a bearer (the access token may be over):
    # tests/handoff_service/api/test_refresh_tokens.py.
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/conversations"),
    ("POST", "/api/v1/conversations/pickup"),
    ("GET", "/api/v1/emergency-numbers"),
    ("GET", "/api/v1/service-status"),
    # The organisations' public pages (docs/organisations.md): names, hours, local information.
    ("GET", "/api/v1/organisations"),
    ("GET", "/api/v1/organisations/{slug}"),
}
# The young person's routes the issue names; the matrix takes every route the token guards.
YOUNG_NAMED = {
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("GET", "/api/v1/conversations/{conversation_id}/events"),
    ("POST", "/api/v1/conversations/{conversation_id}/typing"),
    ("POST", "/api/v1/conversations/{conversation_id}/handoff"),
    ("POST", "/api/v1/conversations/{conversation_id}/feedback"),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    guards: frozenset[Callable]
    roles: frozenset[str]  # the staff roles the dependencies let through

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _calls(dependant) -> Iterator[Callable]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _roles(calls: set[Callable]) -> frozenset[str]:
    roles = set(STAFF_ROLES)
    for call in calls:
        if getattr(call, "__qualname__", "") == "require_role.<locals>.checker":
            roles &= set(inspect.getclosurevars(call).nonlocals["roles"])
    return frozenset(roles)


def app_routes(app) -> list[Route]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = set(_calls(route.dependant))
        guards = frozenset(
            calls
            & {deps.current_user, deps.internal_caller, deps.young_conversation, deps.typing_party}
        )
        for method in sorted(context.methods or ()):
            found.append(Route(method, context.path, guards, _roles(calls)))
    return found


def staff_routes(app) -> list[Route]:
    return [
        r
        for r in app_routes(app)
        if deps.current_user in r.guards and deps.typing_party not in r.guards
    ]


def internal_routes(app) -> list[Route]:
    return [r for r in app_routes(app) if deps.internal_caller in r.guards]


def young_routes(app) -> list[Route]:
    return [
        r
        for r in app_routes(app)
        if r.guards & {deps.young_conversation, deps.typing_party}
        and deps.current_user not in r.guards - {deps.typing_party}
    ]


def rule_for(route: Route) -> frozenset[str] | None:
    for pattern, method, roles in ACCESS_RULES:
        if re.fullmatch(pattern, route.path) and method in ("*", route.method):
            return roles
    return None


def url(route: Route, conversation_id: str) -> str:
    values = {"conversation_id": conversation_id, "user_id": "1", "shift_id": "1"}
    values["exception_id"] = "1"
    values["slug"] = "default"
    values["item_id"] = values["message_id"] = "1"
    values["intent"] = "violence"
    names = re.findall(r"\{(\w+)\}", route.path)
    missing = [name for name in names if name not in values]
    assert not missing, f"{route.label}: teach the matrix a value for {missing}"
    return route.path.format(**values)


def call(client: TestClient, route: Route, conversation_id: str, headers: dict[str, str]):
    body = {"json": {}} if route.method in ("POST", "PUT", "PATCH") else {}
    return client.request(route.method, url(route, conversation_id), headers=headers, **body)


# -- the routes are all there and each one has a decision ------------------------------------


def test_every_api_route_is_public_staff_young_or_internal(client: TestClient):
    routes = app_routes(client.app)
    api = [r for r in routes if r.path.startswith(("/api/", "/internal/"))]
    unguarded = {(r.method, r.path) for r in api if not r.guards}
    assert unguarded == PUBLIC, "a route without a login: add it to PUBLIC only if it is meant"
    assert all(r.path.startswith("/api/v1/") or r.guards == {deps.internal_caller} for r in api)
    assert all(
        r.guards == {deps.internal_caller} for r in api if r.path.startswith("/internal/")
    ), "every internal route needs the internal token and nothing else"
    assert YOUNG_NAMED <= {(r.method, r.path) for r in young_routes(client.app)}
    assert len(staff_routes(client.app)) >= 20 and len(internal_routes(client.app)) >= 4


def test_each_staff_route_lets_through_exactly_the_roles_its_rule_names(client: TestClient):
    wrong = {}
    for route in staff_routes(client.app):
        expected = rule_for(route)
        if expected != route.roles:
            wrong[route.label] = (
                sorted(expected or ["no rule in ACCESS_RULES"]),
                sorted(route.roles),
            )
    assert not wrong, wrong


# -- every staff route x every wrong credential -> 401/403 in Danish -------------------------


@pytest.fixture
def world(client: TestClient, session, counsellor_headers, trainer_headers, admin_headers):
    """A queued conversation, the four roles logged in, and the admin's claims to forge from."""
    conversation_id, young, _ = start(client)
    assert client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young).is_success
    admin = session.scalar(select(User).where(User.username == "demo-admin"))
    assert admin is not None
    make_user(session, "leder", role="leader", password=LEADER_PASSWORD)
    headers = {
        "counsellor": counsellor_headers,
        "trainer": trainer_headers,
        "admin": admin_headers,
        "leader": login_headers(client, "leder", LEADER_PASSWORD),
    }
    return conversation_id, young, headers, admin


def wrong_credentials(settings, admin: User, young: dict[str, str]) -> dict[str, dict]:
    """Each way to knock without the right key, for an admin (the widest role)."""
    claims = {"sub": str(admin.id), "role": "admin", "ver": admin.token_version}
    forever = utcnow() + timedelta(hours=1)
    expired = create_access_token(
        user_id=admin.id,
        role="admin",
        token_version=admin.token_version,
        secret=settings.secret_key,
        minutes=5,
        now=utcnow() - timedelta(minutes=10),
    )
    none_alg = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({**claims, 'exp': 2**40})}."
    return {
        "no token": {},
        "garbage": bearer("not-a-token"),
        "expired": bearer(expired),
        "wrong signing key": bearer(jwt.encode({**claims, "exp": forever}, "k" * 40, "HS256")),
        "alg none": bearer(none_alg),
        "huge sub": bearer(signed(settings, sub="9" * 5000)),
        "a young person's token": young,
    }


def test_every_staff_route_refuses_every_wrong_credential_in_danish(
    client: TestClient, settings, world
):
    conversation_id, young, logged_in, admin = world
    routes = staff_routes(client.app)
    credentials = wrong_credentials(settings, admin, young)
    failures, cells = [], 0
    for route in routes:
        cases = [(name, headers, 401, NOT_LOGGED_IN) for name, headers in credentials.items()]
        # A valid login of each role the route is not for (routes open to every role have none).
        for role in sorted(STAFF_ROLES - route.roles):
            cases.append((f"valid {role} token", logged_in[role], 403, WRONG_ROLE))
        for name, headers, status, detail in cases:
            cells += 1
            response = call(client, route, conversation_id, headers)
            got = (response.status_code, response.json().get("detail"))
            if got != (status, detail):
                failures.append((route.label, name, got))
    assert not failures, failures
    assert cells >= 20 * 7


def test_every_internal_route_refuses_every_wrong_token_in_danish(
    client: TestClient, settings, world
):
    conversation_id, young, logged_in, admin = world
    tokens = {
        "no token": {},
        "garbage": {"X-Internal-Token": "not-the-token"},
        "one character short": {"X-Internal-Token": INTERNAL_TOKEN[:-1]},
        "one character more": {"X-Internal-Token": INTERNAL_TOKEN + "x"},
        "huge": {"X-Internal-Token": "x" * 5000},
        "the token as a bearer": bearer(INTERNAL_TOKEN),
        "an admin's login": logged_in["admin"],
        "a young person's token": young,
    }
    failures = []
    for route in internal_routes(client.app):
        for name, headers in tokens.items():
            response = call(client, route, conversation_id, headers)
            got = (response.status_code, response.json().get("detail"))
            if got != (403, REFUSED_INTERNALLY):
                failures.append((route.label, name, got))
    assert not failures, failures


# -- a young person's token opens only their own conversation ---------------------------------


def test_a_conversation_token_on_another_conversation_is_404_on_every_young_route(
    client: TestClient,
):
    mine, my_token, _ = start(client)
    theirs, their_token, _ = start(client)
    failures = []
    for route in young_routes(client.app):
        body = {"json": {"text": "hej"}} if route.method == "POST" else {}
        path = route.path.format(conversation_id=theirs)
        response = client.request(route.method, path, headers=my_token, **body)
        got = (response.status_code, response.json().get("detail"))
        if got != (404, deps.NOT_FOUND):
            failures.append((route.label, got))
    assert not failures, failures
    # Nothing reached the other conversation: it still holds only its greeting.
    other = client.get(f"/api/v1/conversations/{theirs}", headers=their_token).json()
    assert {m["sender"] for m in other["messages"]} == {"bot"} and other["status"] == "bot"


# -- a colleague's conversation: read (audited), never written --------------------------------


def test_a_counsellor_may_read_a_colleagues_conversation_audited_but_not_act_in_it(
    client: TestClient, session, counsellor_headers, admin_headers
):
    """The decision (docs/reliability.md): any counsellor may open a conversation a colleague
    holds (to help, or to take over when the colleague is gone) and every open is audited under
    the reader's name; only the holder may write, release, close, flag or type in it."""
    conversation_id, young, _ = start(client)
    client.post(f"/api/v1/conversations/{conversation_id}/handoff", headers=young)
    assert client.post("/api/v1/queue/claim", headers=counsellor_headers).status_code == 200
    colleague = make_user(session, "kollega", password="kollegas-kodeord-1")  # noqa: S106
    login = client.post(
        "/api/v1/auth/login", json={"username": "kollega", "password": "kollegas-kodeord-1"}
    )
    theirs = bearer(login.json()["access_token"])

    opened = client.get(f"/api/v1/counsellor/conversations/{conversation_id}", headers=theirs)
    assert opened.status_code == 200 and opened.json()["counsellor_id"] != colleague.id
    trail = client.get(
        f"/api/v1/audit?conversation_id={conversation_id}&user_id={colleague.id}",
        headers=admin_headers,
    ).json()
    assert [event["action"] for event in trail] == ["open"]

    owned = [
        r
        for r in app_routes(client.app)
        if deps.owned_conversation in set(_calls(_api_route(client.app, r).dependant))
    ] + [r for r in young_routes(client.app) if deps.typing_party in r.guards]
    assert len(owned) >= 4
    failures = []
    for route in owned:
        response = call(client, route, conversation_id, theirs)
        if (response.status_code, response.json().get("detail")) != (409, NOT_YOURS):
            failures.append((route.label, response.status_code, response.text))
    assert not failures, failures
    held = client.get(f"/api/v1/counsellor/conversations/{conversation_id}", headers=theirs)
    assert held.json()["status"] == "active" and len(held.json()["messages"]) == len(
        opened.json()["messages"]
    )


def _api_route(app, wanted: Route) -> APIRoute:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and context.path == wanted.path
            and wanted.method in (context.methods or ())
        ):
            return route
    raise LookupError(wanted.label)
