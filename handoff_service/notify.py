"""Pushes what changed to the SSE subscribers, after the change is committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.domain.status import ConversationStatus
from handoff_service.events import EventBroker
from handoff_service.models import Conversation
from handoff_service.queue import all_queue_positions, queue_context
from handoff_service.schemas import MessageOut

CONVERSATION_PREFIX = "conversation:"
DASHBOARD = "dashboard"


def conversation_channel(conversation_id: str) -> str:
    return f"{CONVERSATION_PREFIX}{conversation_id}"


def publish_messages(broker: EventBroker, conversation_id: str, messages: list[MessageOut]) -> None:
    for message in messages:
        broker.publish(
            conversation_channel(conversation_id), "message", message.model_dump(mode="json")
        )


def publish_typing(broker: EventBroker, conversation_id: str, sender: str) -> None:
    """Someone in a live conversation is writing; the pages show it for a few seconds."""
    broker.publish(conversation_channel(conversation_id), "typing", {"sender": sender})


def publish_token_replaced(broker: EventBroker, conversation_id: str) -> None:
    """The conversation was opened with its pickup code: an older token no longer works."""
    broker.publish(conversation_channel(conversation_id), "token_replaced", {})


def publish_status(broker: EventBroker, conversation: Conversation, queue: dict | None) -> None:
    broker.publish(
        conversation_channel(conversation.id),
        "status",
        {
            "status": conversation.status,
            "risk": conversation.risk,
            "topic": conversation.topic,
            "queue": queue,
        },
    )


def dashboard_event(reason: str, conversation: Conversation | None, waiting_count: int) -> dict:
    """What the dashboard is told: never message text, only what changed and how urgent."""
    return {
        "reason": reason,
        "conversation_id": conversation.id if conversation else None,
        "status": conversation.status if conversation else None,
        "risk": conversation.risk if conversation else None,
        "critical": bool(conversation is not None and conversation.risk == "critical"),
        "topic": conversation.topic if conversation else None,
        "waiting_count": waiting_count,
    }


def publish_queue_changed(
    broker: EventBroker,
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    reason: str,
    conversation: Conversation | None = None,
) -> None:
    """Recompute every waiting position once and push it to each connected young person.

    One ordered pass over the queue per change (not one per waiting client), then a push only to
    the conversations that have a live stream. Reasons: handoff, claim, release, close, risk,
    shifts (calendar edited), shift_opened, shift_closed.
    """
    context = queue_context(session, settings, now)
    streams = broker.channels_with_prefix(CONVERSATION_PREFIX)
    subscribed = {channel.removeprefix(CONVERSATION_PREFIX) for channel in streams}
    if subscribed:
        positions = all_queue_positions(session)
        broker.publish_many(
            [
                (
                    conversation_channel(conversation_id),
                    "queue",
                    {
                        "status": ConversationStatus.QUEUED.value,
                        "queue": context.info_json(positions[conversation_id]),
                    },
                )
                for conversation_id in subscribed & positions.keys()
            ]
        )
    if conversation is not None and conversation.status != ConversationStatus.QUEUED:
        publish_status(broker, conversation, None)
        if reason == "claim":
            # The young person's page says so in words: "En rådgiver har taget din samtale".
            broker.publish(
                conversation_channel(conversation.id),
                "counsellor_joined",
                {"at": now.isoformat()},
            )
    broker.publish(DASHBOARD, "queue", dashboard_event(reason, conversation, context.waiting_count))


def publish_stale_warning(
    broker: EventBroker,
    conversation_id: str,
    counsellor_id: int,
    *,
    release_at: datetime,
    seconds_left: int,
) -> None:
    """The counsellor holding a conversation whose young person waits has shown no sign of
    being there for a while: on the dashboard feed, addressed to them (ids only, never text)."""
    broker.publish(
        DASHBOARD,
        "stale_warning",
        {
            "conversation_id": conversation_id,
            "counsellor_id": counsellor_id,
            "release_at": release_at.isoformat(),
            "seconds_left": seconds_left,
        },
    )


def publish_counsellor_left(broker: EventBroker, conversation_id: str, notice: str) -> None:
    """A stale claim went back to the queue: the young person's page (and the counsellor's, if
    still open) says so. `notice` is the service's own Danish line, the same as the bot line;
    nothing about the counsellor goes to the young person."""
    broker.publish(
        conversation_channel(conversation_id),
        "counsellor_left",
        {"reason": "stale", "text": notice},
    )
