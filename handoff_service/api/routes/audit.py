"""Admin: the audit trail (who opened, claimed, answered, released or closed what; never text)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import or_, select

from handoff_service.api.deps import AdminDep, SessionDep, is_conversation_id
from handoff_service.models import AuditEvent, Conversation, User
from handoff_service.schemas import AuditEventOut, error_responses

router = APIRouter(prefix="/api/v1/audit", tags=["admin"], responses=error_responses(503))


@router.get("", response_model=list[AuditEventOut], responses=error_responses(401, 403, 422))
def audit_trail(
    session: SessionDep,
    admin: AdminDep,
    conversation_id: str | None = Query(default=None, max_length=36),
    user_id: int | None = Query(default=None, ge=1, le=2_147_483_647),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AuditEventOut]:
    """Newest first, optionally for one conversation or one user. An organisation's admin sees
    what its own staff did or had done to them, and what happened to conversations started on
    its page or waiting in its queue; a platform admin sees everything."""
    query = select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id)
    if admin.organisation_id is not None:
        own = admin.organisation_id
        own_staff = select(User.id).where(User.organisation_id == own)
        own_conversations = select(Conversation.id).where(
            or_(Conversation.organisation_id == own, Conversation.origin_organisation_id == own)
        )
        query = query.where(
            or_(
                AuditEvent.user_id.in_(own_staff),
                AuditEvent.subject_user_id.in_(own_staff),
                AuditEvent.conversation_id.in_(own_conversations),
            )
        )
    if conversation_id is not None:
        if not is_conversation_id(conversation_id):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Ugyldigt samtale-id.")
        query = query.where(AuditEvent.conversation_id == conversation_id)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [
        AuditEventOut(
            id=event.id,
            action=event.action,
            user_id=event.user_id,
            username=username,
            conversation_id=event.conversation_id,
            subject_user_id=event.subject_user_id,
            created_at=event.created_at,
        )
        for event, username in rows
    ]
