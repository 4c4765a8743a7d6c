"""Organisations: the public list and pages (/ung/<slug>), and their administration.

Public: every organisation's name, whether it is open now, its next opening, its presentation,
hours and local information (approved content, written by its own admin). A platform admin
creates organisations and sets their network; an organisation's admin changes its content.
Every change is audited. docs/organisations.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse

from handoff_service import organisations as orgs
from handoff_service.api.deps import AdminDep, SessionDep, SettingsDep
from handoff_service.audit import audit
from handoff_service.db import utcnow
from handoff_service.models import Organisation
from handoff_service.schemas import (
    BODY_ERRORS,
    SLUG_PATTERN,
    OrganisationChangeIn,
    OrganisationIn,
    OrganisationOut,
    OrganisationPageOut,
    error_responses,
)

router = APIRouter(
    prefix="/api/v1/organisations", tags=["organisations"], responses=error_responses(503)
)
pages = APIRouter()

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
Slug = Annotated[str, PathParam(max_length=40)]
NOT_FOUND = "Organisationen findes ikke."
NOT_FOUND_PAGE = """<!doctype html>
<html lang="da"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Siden findes ikke</title><link rel="stylesheet" href="/assets/chat.css"></head>
<body><main class="not-found"><h1>Siden findes ikke</h1>
<p>Vi kender ikke den kommune eller det tilbud. Du kan skrive til os på
<a href="/">forsiden</a>. Er du i fare, så ring 112.</p></main></body></html>
"""


def _states(session, settings) -> orgs.OpenStates:
    return orgs.OpenStates(session, utcnow(), ZoneInfo(settings.timezone))


def _found(session, slug: str) -> Organisation:
    organisation = orgs.by_slug(session, slug)
    if organisation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return organisation


def _network(session, slug: str | None, organisation: Organisation | None) -> int | None:
    if slug is None:
        return None
    network = orgs.by_slug(session, slug)
    if network is None or network.kind != "network":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "Netværket findes ikke.")
    if organisation is not None and network.id == organisation.id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "En organisation kan ikke være sit eget netværk."
        )
    return network.id


@router.get("", response_model=list[OrganisationOut])
def list_organisations(session: SessionDep, settings: SettingsDep) -> list[OrganisationOut]:
    """Every organisation on the platform: name, open now, next opening, its page."""
    states = _states(session, settings)
    return [orgs.organisation_out(session, o, states) for o in orgs.all_organisations(session)]


@router.get("/{slug}", response_model=OrganisationPageOut, responses=error_responses(404, 422))
def read_organisation(
    slug: Slug, session: SessionDep, settings: SettingsDep
) -> OrganisationPageOut:
    """What the organisation's page shows: presentation, hours, closed dates, local services,
    and where a young person who writes now will wait."""
    return orgs.organisation_page(session, _found(session, slug), _states(session, settings))


@router.post(
    "",
    response_model=OrganisationPageOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
def create_organisation(
    body: OrganisationIn, session: SessionDep, settings: SettingsDep, admin: AdminDep
) -> OrganisationPageOut:
    """A platform admin adds a municipality, a service or a network."""
    if not orgs.is_platform_staff(admin):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Kun en platform-admin kan oprette organisationer."
        )
    if orgs.by_slug(session, body.slug) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "Det kortnavn er allerede taget.")
    organisation = Organisation(
        slug=body.slug,
        name=body.name,
        kind=body.kind,
        network_id=_network(session, body.network, None),
        presentation=body.presentation,
        age_range=body.age_range,
        confidentiality=body.confidentiality,
        local_info=[item.model_dump() for item in body.local_info],
    )
    session.add(organisation)
    session.flush()
    audit(session, admin, None, "organisation_created")
    session.commit()
    return orgs.organisation_page(session, organisation, _states(session, settings))


@router.patch(
    "/{slug}",
    response_model=OrganisationPageOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404),
)
def change_organisation(
    slug: Slug,
    body: OrganisationChangeIn,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
) -> OrganisationPageOut:
    """Its own admin changes the content; only a platform admin moves it in or out of a
    network."""
    organisation = _found(session, slug)
    if not orgs.may_manage(admin, organisation.id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Du kan kun ændre din egen organisations side."
        )
    if body.network is not None or body.leave_network:
        if not orgs.is_platform_staff(admin):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Kun en platform-admin kan ændre netværket."
            )
        organisation.network_id = (
            None if body.leave_network else _network(session, body.network, organisation)
        )
    for field in ("name", "presentation", "age_range", "confidentiality"):
        value = getattr(body, field)
        if value is not None:
            setattr(organisation, field, value)
    if body.local_info is not None:
        organisation.local_info = [item.model_dump() for item in body.local_info]
    audit(session, admin, None, "organisation_changed")
    orgs.reroute_waiting(session, utcnow())
    session.commit()
    return orgs.organisation_page(session, organisation, _states(session, settings))


@pages.get("/ung/{slug}", include_in_schema=False, response_model=None)
def organisation_chat_page(slug: str, session: SessionDep) -> FileResponse | HTMLResponse:
    """The young person's page of one organisation: the chat, started on its queue."""
    if not re.fullmatch(SLUG_PATTERN, slug) or orgs.by_slug(session, slug) is None:
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404, headers={"Cache-Control": "no-store"})
    return FileResponse(STATIC_DIR / "chat.html", headers={"Cache-Control": "no-store"})
