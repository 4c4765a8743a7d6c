"""Pushes what changed to the SSE subscribers, after the change is committed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handoff_service.config import Settings
from handoff_service.domain.status import ConversationStatus
from handoff_service.events import EventBroker
from handoff_service.models import Conversation
from handoff_service.organisations import organisation_of
from handoff_service.queue import (
    QueueContext,
    queue_context,
    recent_handling_minutes,
    waiting_by_queue,
    waiting_places,
)
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


def dashboard_event(
    reason: str,
    conversation: Conversation | None,
    waiting: dict[int, int],
    previous_organisation_id: int | None = None,
) -> dict:
    """What the dashboard is told: never message text, only what changed and how urgent.

    `organisation_id` is the queue the conversation is in, and `waiting_by_queue` the count per
    queue: each staff member's stream keeps only their queues' events and counts
    (:func:`staff_view_of_dashboard`)."""
    return {
        "reason": reason,
        "conversation_id": conversation.id if conversation else None,
        "organisation_id": conversation.organisation_id if conversation else None,
        # The queue it left (a referral or a move): that queue's staff must hear of it too.
        "previous_organisation_id": previous_organisation_id,
        "status": conversation.status if conversation else None,
        "risk": conversation.risk if conversation else None,
        "critical": bool(conversation is not None and conversation.risk == "critical"),
        "topic": conversation.topic if conversation else None,
        "waiting_count": sum(waiting.values()),
        "waiting_by_queue": {str(key): value for key, value in waiting.items()},
    }


def staff_view_of_dashboard(queue_ids: set[int] | None):
    """A dashboard stream's filter for staff who see `queue_ids` (None: every queue): events
    about other queues' conversations are dropped, and the waiting count is their queues'."""

    def view(event: str, data: dict) -> dict | None:
        if event != "queue":
            return data
        involved = {data.get("organisation_id"), data.get("previous_organisation_id")} - {None}
        if queue_ids is not None and involved and not involved & queue_ids:
            return None
        by_queue = data.get("waiting_by_queue") or {}
        shown = {k: v for k, v in by_queue.items() if queue_ids is None or int(k) in queue_ids}
        return {
            **{k: v for k, v in data.items() if k != "waiting_by_queue"},
            "waiting_count": sum(shown.values()),
        }

    return view


def publish_queue_changed(
    broker: EventBroker,
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    reason: str,
    conversation: Conversation | None = None,
    announce: bool = True,
    previous_organisation_id: int | None = None,
    dashboard: bool = True,
) -> None:
    """Recompute every waiting position once and push it to each connected young person.

    The positions go to this process's streams only; with several processes the others are told
    to recompute theirs (`announce`; False when the change was announced by another process or
    happens in every process alike, like a shift opening). `dashboard` False: the dashboards
    were told by the process where the change happened (its event reaches every process).

    One ordered pass over the queues per change (not one per waiting client), one context per
    queue with a connected young person, then a push only to the conversations that have a live
    stream. Reasons: handoff, claim, release, close, risk, referred, moved, shifts (calendar
    edited), shift_opened, shift_closed.
    """
    streams = broker.channels_with_prefix(CONVERSATION_PREFIX)
    subscribed = {channel.removeprefix(CONVERSATION_PREFIX) for channel in streams}
    if subscribed:
        places = waiting_places(session)
        handling = recent_handling_minutes(session, settings)
        contexts: dict[int | None, QueueContext] = {}
        events = []
        for conversation_id in subscribed & places.keys():
            place = places[conversation_id]
            if place.organisation_id not in contexts:
                contexts[place.organisation_id] = queue_context(
                    session,
                    settings,
                    now,
                    organisation_of(session, place.organisation_id),
                    handling=handling,
                )
            context = contexts[place.organisation_id]
            events.append(
                (
                    conversation_channel(conversation_id),
                    "queue",
                    {
                        "status": ConversationStatus.QUEUED.value,
                        "queue": context.info_json(place.position, place.reason, place.origin_id),
                    },
                )
            )
        broker.publish_many(events, local_only=True)
    if announce:
        broker.announce_queue_changed(reason)
    if conversation is not None and conversation.status != ConversationStatus.QUEUED:
        publish_status(broker, conversation, None)
        if reason == "claim":
            # The young person's page says so in words: "En rådgiver har taget din samtale".
            broker.publish(
                conversation_channel(conversation.id),
                "counsellor_joined",
                {"at": now.isoformat()},
            )
    if not dashboard:  # another process told every dashboard already
        return
    broker.publish_many(
        [
            (
                DASHBOARD,
                "queue",
                dashboard_event(
                    reason, conversation, waiting_by_queue(session), previous_organisation_id
                ),
            )
        ],
        local_only=not announce,
    )


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
