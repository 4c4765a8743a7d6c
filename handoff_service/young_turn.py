"""A young person's turn, written so that a crash at any point leaves nobody unanswered.

1. One transaction, before Rasa is called: the message (with the page's client message id), the
   service's own risk-lexicon verdict (risk raised; queued when the lexicon matches) and, for a
   closed conversation, the "you are queued" answer. A crisis is in the queue before the bot is
   asked anything.
2. Rasa is asked (short timeout, circuit breaker: handoff_service/rasa_client.py), outside any
   transaction.
3. A second transaction stores Rasa's lines, or the Danish fallback with the right numbers and a
   queue place when Rasa does not answer.

If the process dies between 1 and 3, `answer_unanswered` (run at start-up and periodically by
handoff_service/scheduler.py) gives the young person the fallback and a queue place. A retry
with the same client message id returns the first turn and stores nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff_service import conversations as ops
from handoff_service import queue as queue_ops
from handoff_service import trainer_inbox, views
from handoff_service.config import Settings
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus, Sender
from handoff_service.events import EventBroker
from handoff_service.models import Conversation, Message
from handoff_service.notify import publish_messages, publish_queue_changed
from handoff_service.rasa_client import BotLine, RasaClient, RasaUnavailable
from handoff_service.risk_net import risk_match
from handoff_service.schemas import MessageOut, Triage, TurnOut

logger = logging.getLogger(__name__)

RELAYED_TO_BOT = (ConversationStatus.BOT, ConversationStatus.QUEUED)
# Most bot lines one turn can have; a retry reads no further than this.
MAX_TURN_LINES = 50


def store_bot_lines(
    session: Session, conversation: Conversation, lines: Sequence[str | BotLine]
) -> list[MessageOut]:
    """Stores the bot's lines: the service's own texts, or Rasa's lines with their buttons."""
    stored = []
    for line in lines:
        if isinstance(line, str):
            line = BotLine(line)
        message = ops.add_message(session, conversation, Sender.BOT, line.text)
        if line.quick_replies:
            message.quick_replies = list(line.quick_replies)
        stored.append(views.message_out(message))
    return stored


def fallback_lines(texts: dict[str, Any], critical: bool) -> list[str]:
    """What the young person is told when the bot cannot answer: with the crisis text and its
    numbers when the lexicon found danger, else the plain fallback with 112 and a queue place."""
    return texts["critical_without_bot" if critical else "fallback_rasa_down"]


def _lexicon_triage(text: str) -> tuple[Triage | None, bool]:
    """The lexicon's verdict on `text` as a triage to hand off with, and whether it is critical."""
    net = risk_match(text)
    if net is None:
        return None, False
    return (
        Triage(risk=net.risk, intents=[net.intent], reason="risk_lexicon"),
        net.risk == "critical",
    )


def _announce(
    session: Session,
    settings: Settings,
    broker: EventBroker,
    conversation: Conversation,
    before: tuple[str, int],
    messages: list[MessageOut],
    now: datetime,
) -> None:
    """After a commit: the new messages to the conversation, a queue change to everyone."""
    publish_messages(broker, conversation.id, messages)
    if reason := queue_ops.queue_change(before, conversation):
        publish_queue_changed(
            broker, session, settings, now, reason=reason, conversation=conversation
        )


def earlier_turn(
    session: Session, settings: Settings, conversation: Conversation, client_message_id: str
) -> TurnOut | None:
    """The turn already stored for this client message id: the bot lines that followed it."""
    young = session.scalar(
        select(Message).where(
            Message.conversation_id == conversation.id,
            Message.client_message_id == client_message_id,
        )
    )
    if young is None:
        return None
    following = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.id > young.id)
        .order_by(Message.id)
        .limit(MAX_TURN_LINES)
    )
    replies = []
    for message in following:
        if message.sender != Sender.BOT:
            break
        replies.append(views.message_out(message))
    return TurnOut(
        messages=replies,
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, utcnow()),
    )


class ConversationGone(LookupError):
    """The conversation was deleted while its turn waited for the bot (the young person's own
    deletion, or a purge): there is nobody left to answer. The message went with it."""


def young_turn(
    session: Session,
    settings: Settings,
    broker: EventBroker,
    texts: dict[str, Any],
    conversation: Conversation,
    text: str,
    client_message_id: str | None = None,
    *,
    rasa: RasaClient | None = None,
) -> TurnOut:
    """The young person wrote `text`: store, triage, ask the bot, answer (see the module doc)."""
    rasa = rasa or RasaClient.from_settings(settings)
    conversation_id = conversation.id
    if client_message_id is not None and (
        first := earlier_turn(session, settings, conversation, client_message_id)
    ):
        return first

    # -- 1. the message and the lexicon's verdict, in one transaction --------------------------
    now = utcnow()
    status_at_start = conversation.status
    before = (conversation.status, conversation.risk_rank)
    lexicon, critical = _lexicon_triage(text)
    replies: list[MessageOut] = []
    try:
        young = ops.add_message(session, conversation, "young", text, client_message_id)
        if status_at_start == ConversationStatus.CLOSED:
            queue_ops.hand_off(session, conversation, Triage(reason="young_returned"), now)
            replies = store_bot_lines(session, conversation, texts["queued_by_young_person"])
        if lexicon is not None:
            # The lexicon is a second net beside the classifier: critical words reach a human
            # whatever Rasa says, or whether it answers at all.
            queue_ops.hand_off(session, conversation, lexicon, now)
        session.commit()
    except IntegrityError:
        # The same client message id arrived twice at once: the other request stored it.
        session.rollback()
        reread = session.get(Conversation, conversation_id)
        if client_message_id is None or reread is None:
            raise
        first = earlier_turn(session, settings, reread, client_message_id)
        if first is None:
            raise
        return first
    _announce(
        session, settings, broker, conversation, before, [views.message_out(young), *replies], now
    )
    if status_at_start not in RELAYED_TO_BOT:
        # Closed: answered above. Active: the counsellor answers.
        return TurnOut(
            messages=replies,
            status=conversation.status,
            queue=queue_ops.queue_info(session, settings, conversation, now),
        )

    # -- 2. the bot, outside any transaction ---------------------------------------------------
    try:
        # A crisis the lexicon recognised has its answer ready here: Rasa gets a short while.
        lines: list[BotLine] | None = rasa.send(conversation_id, text, quick=critical)
    except RasaUnavailable:
        lines = None

    # -- 3. the bot's answer, or the fallback and a queue place --------------------------------
    # The action server may have queued the conversation meanwhile, in its own transaction; its
    # changes are announced by its own route.
    session.expire_all()
    reread = session.get(Conversation, conversation_id)
    if reread is None:
        session.rollback()
        raise ConversationGone(conversation_id)
    conversation = reread
    before = (conversation.status, conversation.risk_rank)
    if not lines:
        # No answer, or an empty one (a failing action): a human takes over, nothing is lost.
        queue_ops.hand_off(session, conversation, Triage(reason="bot_unavailable"), now)
        replies = store_bot_lines(session, conversation, fallback_lines(texts, critical))
    else:
        replies = store_bot_lines(session, conversation, lines)
        if status_at_start == ConversationStatus.BOT:
            # Written to the bot, which was unsure: scrubbed into the trainer's inbox.
            trainer_inbox.collect_turn(
                session, settings, conversation, text, getattr(lines, "nlu", None), now
            )
    session.commit()
    _announce(session, settings, broker, conversation, before, replies, now)
    return TurnOut(
        messages=replies,
        status=conversation.status,
        queue=queue_ops.queue_info(session, settings, conversation, now),
    )


# -- recovery -------------------------------------------------------------------------------


def unanswered_cutoff(settings: Settings, now: datetime) -> datetime:
    """Messages older than this with no answer were lost in a crash, not still in a turn.

    Never sooner than a live turn can take (Rasa's timeout, its connect timeout and a margin),
    so recovery does not answer a turn that is still waiting for Rasa.
    """
    wait = max(settings.unanswered_after_seconds, settings.rasa_timeout_seconds + 3 + 10)
    return now - timedelta(seconds=wait)


def unanswered_conversations(session: Session, cutoff: datetime) -> list[str]:
    """Conversations with the bot (or queued) whose newest message is the young person's and
    older than `cutoff`: a turn that never got its answer."""
    newest_id = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Conversation.id)
            .join(Message, Message.id == newest_id)
            .where(
                Conversation.status.in_(RELAYED_TO_BOT),
                Conversation.updated_at < cutoff,
                Message.sender == "young",
                Message.created_at < cutoff,
            )
            .order_by(Conversation.id)
        )
    )


def answer_unanswered(
    session: Session,
    settings: Settings,
    broker: EventBroker,
    texts: dict[str, Any],
    now: datetime | None = None,
) -> list[str]:
    """Answer every young person left without an answer by a crash: the fallback with the right
    numbers (the crisis text when the lexicon finds danger) and a place in the queue.

    Returns the ids of the conversations answered. Run at start-up and periodically.
    """
    now = now or utcnow()
    answered = []
    for conversation_id in unanswered_conversations(session, unanswered_cutoff(settings, now)):
        conversation = session.get(Conversation, conversation_id, populate_existing=True)
        if conversation is None or conversation.status not in RELAYED_TO_BOT:
            continue
        last_answer = (
            session.scalar(
                select(func.max(Message.id)).where(
                    Message.conversation_id == conversation_id, Message.sender != "young"
                )
            )
            or 0
        )
        unanswered = session.scalars(
            select(Message.text).where(
                Message.conversation_id == conversation_id, Message.id > last_answer
            )
        ).all()
        before = (conversation.status, conversation.risk_rank)
        critical = conversation.risk == "critical"
        for text in unanswered:
            lexicon, is_critical = _lexicon_triage(text)
            critical = critical or is_critical
            if lexicon is not None:
                queue_ops.hand_off(session, conversation, lexicon, now)
        queue_ops.hand_off(session, conversation, Triage(reason="bot_unavailable"), now)
        replies = store_bot_lines(session, conversation, fallback_lines(texts, critical))
        session.commit()
        _announce(session, settings, broker, conversation, before, replies, now)
        answered.append(conversation_id)
    if answered:
        logger.warning("answered %d conversations left without an answer", len(answered))
    return answered
