"""What the pages are shown: messages, the counsellor's view and the queue's Danish summaries.

Read-only: builds response models from the database objects, never writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session

from handoff_service import shift_tools
from handoff_service.models import Conversation, Message
from handoff_service.organisations import organisation_names
from handoff_service.schemas import (
    CounsellorConversationOut,
    DutyToReport,
    MessageOut,
    OrganisationRef,
    QueueItemOut,
)
from handoff_service.triage import GENERIC_TOPICS


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        sender=message.sender,
        text=message.text,
        created_at=message.created_at,
        quick_replies=message.quick_replies or None,
    )


def topic_label(topic: str | None, texts: dict[str, Any]) -> str:
    labels = texts["topic_labels"]
    return labels.get(topic or "unknown", labels["unknown"])


def triage_summary(conversation: Conversation, texts: dict[str, Any]) -> str:
    """A short Danish line for the queue: risk, topic, carer, substance, what the bot gave."""
    triage = conversation.triage or {}
    parts = [texts["risk_labels"][conversation.risk], topic_label(conversation.topic, texts)]
    entities = triage.get("entities", {})
    if dangers := [texts["danger_labels"].get(d) for d in entities.get("danger", [])]:
        # The kind of danger the bot answered: the guidance the young person has already had.
        parts.append("fare: " + ", ".join(dict.fromkeys(d for d in dangers if d)))
    if entities.get("carer"):
        parts.append("omsorgsperson: " + ", ".join(entities["carer"]))
    if entities.get("substance"):
        parts.append("rusmiddel: " + ", ".join(entities["substance"]))
    other_topics = [
        topic_label(i, texts)
        for i in triage.get("intents", [])
        if i in texts["topic_labels"] and i != conversation.topic and i not in GENERIC_TOPICS
    ]
    if other_topics:
        parts.append("også: " + ", ".join(dict.fromkeys(other_topics)))
    if given := triage.get("content_given", []):
        # The themes of what the bot gave, in Danish (the items' titles are in `content_given`).
        parts.append("botten har givet: " + ", ".join(shift_tools.theme_titles(given)))
    return " · ".join(parts)


def counsellor_view(
    conversation: Conversation,
    texts: dict[str, Any],
    guidance: dict[str, Any],
    names: dict[int, OrganisationRef] | None = None,
) -> CounsellorConversationOut:
    if names is None:
        session = object_session(conversation)
        names = organisation_names(session) if session is not None else {}
    return CounsellorConversationOut(
        id=conversation.id,
        status=conversation.status,
        risk=conversation.risk,
        risk_label=texts["risk_labels"][conversation.risk],
        topic=conversation.topic,
        topic_label=topic_label(conversation.topic, texts),
        triage=conversation.triage or {},
        summary=triage_summary(conversation, texts),
        counsellor_id=conversation.counsellor_id,
        outcome=conversation.outcome,
        anonymity_broken=conversation.anonymity_broken_at is not None,
        anonymity_broken_at=conversation.anonymity_broken_at,
        duty_to_report=DutyToReport.model_validate(guidance),
        queued_at=conversation.queued_at,
        claimed_at=conversation.claimed_at,
        closed_at=conversation.closed_at,
        messages=[message_out(m) for m in conversation.messages],
        content_given=shift_tools.content_labels(_given(conversation)),
        queue=names.get(conversation.organisation_id or -1),
        origin=names.get(conversation.origin_organisation_id or -1),
    )


def queue_item(
    conversation: Conversation,
    position: int,
    texts: dict[str, Any],
    now: datetime,
    names: dict[int, OrganisationRef] | None = None,
) -> QueueItemOut:
    """One line of the counsellor's queue: no message text but the first young message, cut
    short (staff only; the counsellor reads it anyway on claiming)."""
    return QueueItemOut(
        id=conversation.id,
        position=position,
        risk=conversation.risk,
        risk_label=texts["risk_labels"][conversation.risk],
        topic=conversation.topic,
        topic_label=topic_label(conversation.topic, texts),
        waiting_minutes=int((now - (conversation.queued_at or now)).total_seconds() // 60),
        queued_at=conversation.queued_at,
        summary=triage_summary(conversation, texts),
        first_message=shift_tools.first_message(conversation),
        content_given=shift_tools.content_labels(_given(conversation)),
        queue=(names or {}).get(conversation.organisation_id or -1),
        origin=(names or {}).get(conversation.origin_organisation_id or -1),
    )


def _given(conversation: Conversation) -> list[str]:
    """The ids of the content items the bot gave (the triage's `content_given`)."""
    return list((conversation.triage or {}).get("content_given", []))
