"""Staff accounts (counsellor, trainer, admin; leader sees statistics only): created and disabled
by an admin, never deleted.

Disabling or changing a user bumps token_version, so every token issued before stops at once;
disabling and a new password also revoke every refresh-token family (every login) of the user.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.errors import Conflict, Forbidden, Invalid, NotFound
from handoff_service.models import Conversation, Organisation, User
from handoff_service.queue import release_all_held_by
from handoff_service.refresh_tokens import revoke_all_for_user
from handoff_service.schemas import OrganisationRef, StaffUserOut, UserChangeIn, UserIn
from handoff_service.security import hash_password


def staff_out(
    user: User, now: datetime, names: dict[int, OrganisationRef] | None = None
) -> StaffUserOut:
    return StaffUserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        organisation=(names or {}).get(user.organisation_id or -1),
        is_active=user.is_active,
        locked=user.locked_until is not None and user.locked_until > now,
        created_at=user.created_at,
    )


def list_users(session: Session, admin: User | None = None) -> list[User]:
    """Every user (a platform admin), or the users of `admin`'s own organisation."""
    query = select(User).order_by(User.username)
    if admin is not None and admin.organisation_id is not None:
        query = query.where(User.organisation_id == admin.organisation_id)
    return list(session.scalars(query))


def get_user(session: Session, user_id: int, admin: User | None = None) -> User:
    """A user `admin` manages: an organisation's admin sees only their own organisation's."""
    user = session.get(User, user_id)
    if user is None or (
        admin is not None
        and admin.organisation_id is not None
        and user.organisation_id != admin.organisation_id
    ):
        raise NotFound("Brugeren findes ikke.")
    return user


def _organisation_for_new_user(session: Session, body: UserIn, admin: User) -> int | None:
    if body.organisation is None:
        return admin.organisation_id
    organisation = session.scalar(
        select(Organisation).where(Organisation.slug == body.organisation)
    )
    if organisation is None:
        raise Invalid("Organisationen findes ikke.")
    if admin.organisation_id is not None and organisation.id != admin.organisation_id:
        raise Forbidden("Du kan kun oprette brugere i din egen organisation.")
    return organisation.id


def create_user(session: Session, body: UserIn, admin: User) -> User:
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise Conflict("Brugernavnet er allerede taget.")
    user = User(
        username=body.username,
        role=body.role,
        password_hash=hash_password(body.password),
        organisation_id=_organisation_for_new_user(session, body, admin),
    )
    session.add(user)
    session.flush()
    audit(session, admin, None, "user_created", subject_user_id=user.id)
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(select(func.count()).where(User.role == "admin", User.is_active.is_(True)))
        or 0
    )


def change_user(
    session: Session, user: User, body: UserChangeIn, admin: User
) -> list[Conversation]:
    """Apply an admin's change; returns conversations put back in the queue (user disabled)."""
    loses_admin = (
        user.role == "admin"
        and user.is_active
        and (body.is_active is False or (body.role is not None and body.role != "admin"))
    )
    if loses_admin and user.id == admin.id:
        raise Conflict("Du kan ikke fjerne din egen admin-adgang. Bed en anden admin om det.")
    if loses_admin and _active_admins(session) <= 1:
        raise Conflict("Der skal altid være mindst én aktiv admin.")
    released: list[Conversation] = []
    if body.role is not None and body.role != user.role:
        user.role = body.role
        user.token_version += 1
        audit(session, admin, None, "user_role_changed", subject_user_id=user.id)
    if body.password is not None:
        user.password_hash = hash_password(body.password)
        user.token_version += 1
        revoke_all_for_user(session, user.id)
        audit(session, admin, None, "user_password_set", subject_user_id=user.id)
    if body.is_active is False and user.is_active:
        user.is_active = False
        user.token_version += 1
        revoke_all_for_user(session, user.id)
        released = release_all_held_by(session, user, admin)
        audit(session, admin, None, "user_disabled", subject_user_id=user.id)
    elif body.is_active is True and not user.is_active:
        user.is_active = True
        audit(session, admin, None, "user_enabled", subject_user_id=user.id)
    if body.unlock and (user.locked_until is not None or user.failed_logins):
        user.locked_until = None
        user.failed_logins = 0
        audit(session, admin, None, "user_unlocked", subject_user_id=user.id)
    session.flush()
    return released
