"""Admin: staff accounts. Disabling a user ends their sessions at once."""

from __future__ import annotations

from fastapi import APIRouter, status

from handoff_service import users as staff
from handoff_service.api.deps import AdminDep, BrokerDep, RowId, SessionDep, SettingsDep
from handoff_service.db import utcnow
from handoff_service.notify import publish_queue_changed
from handoff_service.organisations import organisation_names
from handoff_service.schemas import (
    BODY_ERRORS,
    StaffUserOut,
    UserChangeIn,
    UserIn,
    error_responses,
)

router = APIRouter(prefix="/api/v1/users", tags=["admin"], responses=error_responses(503))


@router.get("", response_model=list[StaffUserOut], responses=error_responses(401, 403))
def list_staff(session: SessionDep, admin: AdminDep) -> list[StaffUserOut]:
    """Every user for a platform admin; an organisation's admin sees their own organisation's."""
    now = utcnow()
    names = organisation_names(session)
    return [staff.staff_out(user, now, names) for user in staff.list_users(session, admin)]


@router.post(
    "",
    response_model=StaffUserOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*BODY_ERRORS, 401, 403, 409),
)
def create_staff(body: UserIn, session: SessionDep, admin: AdminDep) -> StaffUserOut:
    user = staff.create_user(session, body, admin)
    session.commit()
    return staff.staff_out(user, utcnow(), organisation_names(session))


@router.patch(
    "/{user_id}",
    response_model=StaffUserOut,
    responses=error_responses(*BODY_ERRORS, 401, 403, 404, 409),
)
def change_staff(
    user_id: RowId,
    body: UserChangeIn,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> StaffUserOut:
    user = staff.get_user(session, user_id, admin)
    released = staff.change_user(session, user, body, admin)
    session.commit()
    now = utcnow()
    for conversation in released:
        publish_queue_changed(
            broker, session, settings, now, reason="release", conversation=conversation
        )
    return staff.staff_out(user, now, organisation_names(session))


@router.post(
    "/{user_id}/disable",
    response_model=StaffUserOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def disable_staff(
    user_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> StaffUserOut:
    """Tokens stop working at once; conversations the user held go back to the queue."""
    return change_staff(user_id, UserChangeIn(is_active=False), session, settings, broker, admin)


@router.post(
    "/{user_id}/enable",
    response_model=StaffUserOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def enable_staff(
    user_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    admin: AdminDep,
) -> StaffUserOut:
    return change_staff(user_id, UserChangeIn(is_active=True), session, settings, broker, admin)
