"""The audit trail: who did what to which conversation or user, never what was written."""

from __future__ import annotations

from sqlalchemy.orm import Session

from handoff_service.models import AuditEvent, User


def audit(
    session: Session,
    user: User | None,
    conversation_id: str | None,
    action: str,
    subject_user_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Adds one audit row to the session's transaction (committed with the change it records).

    `reason` is a fixed code (e.g. a release's reason), never free text."""
    session.add(
        AuditEvent(
            user_id=user.id if user else None,
            conversation_id=conversation_id,
            subject_user_id=subject_user_id,
            action=action,
            reason=reason,
        )
    )
