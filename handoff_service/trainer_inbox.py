"""The trainer's inbox (issue #14, docs/trainer.md): young people's messages the bot was unsure
about, scrubbed of personal data, for a trainer to label.

What goes in, from a young person's turn while the conversation is with the bot
(:func:`collect_turn`, called by handoff_service/young_turn.py in the turn's own transaction):

* ``below_threshold``: the classifier's confidence is below the FallbackClassifier threshold of
  bot/config.yml (read once), or Rasa answered ``nlu_fallback``;
* ``ambiguous``: the best two intents are closer than ``INBOX_AMBIGUITY_MARGIN`` (0.1);
* ``safety_net``: the crisis safety net lifted the intent, so classifier and lexicon disagree;
* ``bare_fallback``: the bot answered with its plain "I did not understand" fallback;

and from a counsellor (:func:`flag_misunderstood`): ``counsellor_flag``, the young person's
message before a bot line the counsellor marked "botten misforstod".

What is kept: the text after :func:`triage_core.scrub.scrub` (never the original), the day (a
date, nothing finer), the prediction (intent, confidence, top three) and the lexicon rule.
The same text merges into one item (``text_hash``, ``count``). Nothing in the item table links
it to a conversation; the separate ``trainer_inbox_sources`` table does, only so that retention
(:func:`forget_conversations`) deletes an item with its last conversation, unless a trainer
accepted it: then the scrubbed text and its label stay.

The NLU data comes with Rasa's answer: the action server adds it to the turn as a custom item
(bot/actions/actions.py, ``nlu_summary``) that handoff_service/rasa_client.py reads and never
shows; no extra request to Rasa.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    cast,
    delete,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

# A module, not its function: models.py imports this module at its end, maybe while audit.py
# (which imports models) is still loading.
from handoff_service import audit as audit_trail
from handoff_service.db import Base, UTCDateTime, utcnow
from handoff_service.domain.status import Sender
from handoff_service.models import Conversation, Message, User
from handoff_service.risk_net import risk_match
from triage_core.scrub import scrub
from triage_core.taxonomy import FALLBACK_INTENT, INTENTS

REASONS: tuple[str, ...] = (
    "below_threshold",
    "ambiguous",
    "safety_net",
    "bare_fallback",
    "counsellor_flag",
)
STATUSES: tuple[str, ...] = ("open", "accepted", "discarded")
MAX_TEXT_CHARS = 2000
BOT_CONFIG = Path(__file__).resolve().parent.parent / "bot" / "config.yml"
DEFAULT_FALLBACK_THRESHOLD = 0.35


class TrainerInboxItem(Base):
    """One scrubbed message for the trainer. No conversation id, no time finer than the day."""

    __tablename__ = "trainer_inbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)  # scrubbed (triage_core/scrub.py), never the original
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    day: Mapped[date] = mapped_column(Date, index=True)  # the Danish day it was last seen
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    predicted_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    alternatives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    lexicon_concept: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|discarded
    label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    labelled_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When handoff_service/label_export.py wrote it into data/nlu (or found it there already).
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


Index(
    "ix_trainer_inbox_items_status_confidence", TrainerInboxItem.status, TrainerInboxItem.confidence
)


class TrainerInboxSource(Base):
    """Which conversations an item came from: used only to delete it with them (retention)."""

    __tablename__ = "trainer_inbox_sources"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("trainer_inbox_items.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


# -- reasons from Rasa's parse data -------------------------------------------------------------


@lru_cache(maxsize=1)
def fallback_threshold(path: Path = BOT_CONFIG) -> float:
    """The FallbackClassifier threshold of bot/config.yml (read once)."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return DEFAULT_FALLBACK_THRESHOLD
    for component in config.get("pipeline") or []:
        if isinstance(component, dict) and component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", DEFAULT_FALLBACK_THRESHOLD))
    return DEFAULT_FALLBACK_THRESHOLD


def _ranking(nlu: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The classifier's own ranking: real intents only (no nlu_fallback), best first."""
    ranking: list[dict[str, Any]] = []
    for entry in nlu.get("ranking") or []:
        if not isinstance(entry, Mapping):
            continue
        name, confidence = entry.get("intent"), entry.get("confidence")
        if name in INTENTS and isinstance(confidence, int | float):
            ranking.append({"intent": str(name), "confidence": round(float(confidence), 4)})
    safety = nlu.get("safety_net")
    if isinstance(safety, Mapping) and safety.get("intent"):
        # The lifted intent (confidence 1.0) is the lexicon's, not the classifier's.
        lifted = safety.get("intent")
        ranking = [e for e in ranking if not (e["intent"] == lifted and e["confidence"] >= 1.0)]
    ranking.sort(key=lambda entry: -entry["confidence"])
    return ranking


def _lifted(nlu: Mapping[str, Any]) -> bool:
    safety = nlu.get("safety_net")
    return (
        isinstance(safety, Mapping)
        and bool(safety.get("intent"))
        and safety.get("intent") != safety.get("original_intent")
    )


def inbox_reasons(nlu: Mapping[str, Any] | None, threshold: float, margin: float) -> list[str]:
    """Why the turn described by `nlu` (the action server's summary) goes into the inbox."""
    if not nlu:
        return []
    reasons = []
    ranking = _ranking(nlu)
    top = ranking[0]["confidence"] if ranking else None
    if nlu.get("intent") == FALLBACK_INTENT or top is None or top < threshold:
        reasons.append("below_threshold")
    if len(ranking) >= 2 and ranking[0]["confidence"] - ranking[1]["confidence"] < margin:
        reasons.append("ambiguous")
    if _lifted(nlu):
        reasons.append("safety_net")
    if nlu.get("fallback"):
        reasons.append("bare_fallback")
    return reasons


def text_hash(scrubbed: str) -> str:
    """Duplicates merge: the same scrubbed text, whatever its case and spacing."""
    normal = re.sub(r"\s+", " ", scrubbed.casefold()).strip()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


# -- writing ------------------------------------------------------------------------------------


def _insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def add_to_inbox(
    session: Session,
    conversation_id: str,
    text: str,
    reasons: Sequence[str],
    day: date,
    *,
    predicted_intent: str | None = None,
    confidence: float | None = None,
    alternatives: Sequence[Mapping[str, Any]] = (),
    lexicon_concept: str | None = None,
    once_per_conversation: bool = False,
) -> TrainerInboxItem:
    """Adds the scrubbed `text` (or one more of it) to the inbox, in the caller's transaction.

    An insert that merges on `text_hash` (INSERT … ON CONFLICT), so two turns with the same text
    at once never fail the turn. `once_per_conversation`: a repeat from the same conversation
    (a counsellor flagging twice) adds the reasons but does not count again."""
    scrubbed = scrub(text[:MAX_TEXT_CHARS]).text
    digest = text_hash(scrubbed)
    insert = _insert(session)
    if once_per_conversation:
        existing = session.scalar(
            select(TrainerInboxItem.id)
            .join(TrainerInboxSource, TrainerInboxSource.item_id == TrainerInboxItem.id)
            .where(
                TrainerInboxItem.text_hash == digest,
                TrainerInboxSource.conversation_id == conversation_id,
            )
        )
        if existing is not None:
            item = session.get(TrainerInboxItem, existing, populate_existing=True)
            assert item is not None
            item.reasons = _union(item.reasons, reasons)
            session.flush()
            return item
    values = {
        "text": scrubbed,
        "text_hash": digest,
        "count": 1,
        "day": day,
        "reasons": list(reasons),
        "predicted_intent": predicted_intent,
        "confidence": confidence,
        "alternatives": [dict(a) for a in alternatives][:3],
        "lexicon_concept": lexicon_concept,
        "status": "open",
    }
    statement = insert(TrainerInboxItem).values(**values)
    excluded = statement.excluded
    update = {"count": TrainerInboxItem.count + 1, "day": excluded.day}
    if predicted_intent is not None:
        # The newest prediction: the model may have changed since the text was first seen.
        update |= {
            "predicted_intent": excluded.predicted_intent,
            "confidence": excluded.confidence,
            "alternatives": excluded.alternatives,
        }
    if lexicon_concept is not None:
        update["lexicon_concept"] = excluded.lexicon_concept
    item_id = session.execute(
        statement.on_conflict_do_update(index_elements=["text_hash"], set_=update).returning(
            TrainerInboxItem.id
        )
    ).scalar_one()
    item = session.get(TrainerInboxItem, item_id, populate_existing=True)
    assert item is not None
    if set(reasons) - set(item.reasons or []):
        item.reasons = _union(item.reasons, reasons)
    session.execute(
        insert(TrainerInboxSource)
        .values(item_id=item_id, conversation_id=conversation_id)
        .on_conflict_do_nothing(index_elements=["item_id", "conversation_id"])
    )
    session.flush()
    return item


def _union(first: Iterable[str] | None, second: Iterable[str]) -> list[str]:
    merged = list(first or [])
    merged += [reason for reason in second if reason not in merged]
    return [reason for reason in REASONS if reason in merged]


def collect_turn(
    session: Session,
    settings: Any,
    conversation: Conversation,
    text: str,
    nlu: Mapping[str, Any] | None,
    now: datetime,
) -> TrainerInboxItem | None:
    """The young person's message of a turn with the bot, if the bot was unsure about it.

    The caller (young_turn) calls this only for a message written while the conversation was
    with the bot, after the bot's lines are stored and before the commit."""
    reasons = inbox_reasons(nlu, fallback_threshold(), settings.inbox_ambiguity_margin)
    if not reasons or nlu is None:
        return None
    ranking = _ranking(nlu)
    safety = nlu.get("safety_net") if isinstance(nlu.get("safety_net"), Mapping) else None
    concept = str(safety["rule_id"])[:64] if safety and safety.get("rule_id") else None
    if concept is None and (match := risk_match(text)) is not None:
        concept = match.rule_id[:64]
    return add_to_inbox(
        session,
        conversation.id,
        text,
        reasons,
        local_day(now, settings.timezone),
        predicted_intent=ranking[0]["intent"] if ranking else None,
        confidence=ranking[0]["confidence"] if ranking else None,
        alternatives=ranking[:3],
        lexicon_concept=concept,
    )


class FlagError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def flag_misunderstood(
    session: Session,
    settings: Any,
    conversation: Conversation,
    message_id: int,
    user: User,
    now: datetime | None = None,
) -> TrainerInboxItem:
    """ "Botten misforstod": the young person's message before bot line `message_id` goes into
    the inbox, scrubbed, with reason counsellor_flag. Audited without text."""
    message = session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise FlagError(404, "Beskeden findes ikke i denne samtale.")
    if message.sender != Sender.BOT:
        raise FlagError(422, "Kun bottens beskeder kan markeres som misforstået.")
    young = session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.id < message.id,
            Message.sender == Sender.YOUNG,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if young is None:
        raise FlagError(409, "Der er ingen besked fra den unge før denne besked fra botten.")
    match = risk_match(young.text)
    item = add_to_inbox(
        session,
        conversation.id,
        young.text,
        ["counsellor_flag"],
        local_day(now or utcnow(), settings.timezone),
        lexicon_concept=match.rule_id[:64] if match else None,
        once_per_conversation=True,
    )
    audit_trail.audit(session, user, conversation.id, "flag_misunderstood")
    return item


def forget_conversations(session: Session, conversation_ids: Sequence[str]) -> int:
    """Retention: the conversations' source rows go, and with them every item whose last source
    is gone, unless a trainer accepted it (then the scrubbed text and its label stay).

    Returns how many items were deleted."""
    if not conversation_ids:
        return 0
    item_ids = list(
        session.scalars(
            select(TrainerInboxSource.item_id)
            .where(TrainerInboxSource.conversation_id.in_(conversation_ids))
            .distinct()
        )
    )
    session.execute(
        delete(TrainerInboxSource).where(TrainerInboxSource.conversation_id.in_(conversation_ids))
    )
    if not item_ids:
        return 0
    orphaned = ~exists().where(TrainerInboxSource.item_id == TrainerInboxItem.id)
    result = session.execute(
        delete(TrainerInboxItem)
        .where(
            TrainerInboxItem.id.in_(item_ids),
            TrainerInboxItem.status != "accepted",
            orphaned,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- the trainer's API ----------------------------------------------------------------------------


class AlternativeOut(BaseModel):
    intent: str
    confidence: float


class InboxItemOut(BaseModel):
    """One inbox item as the trainer sees it: scrubbed text, the day, never a conversation."""

    id: int
    text: str
    count: int
    day: date
    reasons: list[str]
    predicted_intent: str | None
    confidence: float | None
    alternatives: list[AlternativeOut]
    lexicon_concept: str | None
    status: str
    label: str | None
    labelled_by: int | None
    labelled_at: datetime | None
    # When `make export-labels` (or the page's button) wrote it into data/nlu; None before.
    exported_at: datetime | None = None


def item_out(item: TrainerInboxItem) -> InboxItemOut:
    return InboxItemOut(
        id=item.id,
        text=item.text,
        count=item.count,
        day=item.day,
        reasons=list(item.reasons or []),
        predicted_intent=item.predicted_intent,
        confidence=item.confidence,
        alternatives=[AlternativeOut(**a) for a in item.alternatives or []],
        lexicon_concept=item.lexicon_concept,
        status=item.status,
        label=item.label,
        labelled_by=item.labelled_by,
        labelled_at=item.labelled_at,
        exported_at=item.exported_at,
    )


IntentName = Literal[INTENTS]  # type: ignore[valid-type]


class LabelIn(BaseModel):
    """Exactly one of: the right intent, ``discard`` (not usable), ``correct`` (the bot was
    right: its predicted intent becomes the label)."""

    intent: IntentName | None = None
    discard: bool = False
    correct: bool = False

    @model_validator(mode="after")
    def exactly_one(self) -> LabelIn:
        chosen = [self.intent is not None, self.discard, self.correct]
        if sum(chosen) != 1:
            raise ValueError("angiv præcis én af intent, discard eller correct")
        return self


class BatchLabelIn(LabelIn):
    ids: list[int] = Field(min_length=1, max_length=500)


class BatchOut(BaseModel):
    updated: int


class LabelError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


SORTS = {
    "confidence": "lowest confidence first (unknown first)",
    "-confidence": "highest confidence first",
    "count": "most often first",
    "day": "newest day first",
}


def list_items(
    session: Session,
    *,
    reason: str | None = None,
    intent: str | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    status: str = "open",
    sort: str = "confidence",
    limit: int = 100,
    offset: int = 0,
) -> list[TrainerInboxItem]:
    query = select(TrainerInboxItem)
    if status != "all":
        query = query.where(TrainerInboxItem.status == status)
    if reason is not None:
        # Reasons are fixed keys (validated by the route): a JSON list holds '"key"'.
        query = query.where(cast(TrainerInboxItem.reasons, String).like(f'%"{reason}"%'))
    if intent is not None:
        query = query.where(TrainerInboxItem.predicted_intent == intent)
    if min_confidence is not None:
        query = query.where(TrainerInboxItem.confidence >= min_confidence)
    if max_confidence is not None:
        query = query.where(TrainerInboxItem.confidence <= max_confidence)
    if day_from is not None:
        query = query.where(TrainerInboxItem.day >= day_from)
    if day_to is not None:
        query = query.where(TrainerInboxItem.day <= day_to)
    unknown_first = TrainerInboxItem.confidence.is_(None).desc()
    order = {
        "confidence": (unknown_first, TrainerInboxItem.confidence.asc()),
        "-confidence": (
            TrainerInboxItem.confidence.is_(None).asc(),
            TrainerInboxItem.confidence.desc(),
        ),
        "count": (TrainerInboxItem.count.desc(),),
        "day": (TrainerInboxItem.day.desc(),),
    }[sort]
    return list(
        session.scalars(query.order_by(*order, TrainerInboxItem.id).limit(limit).offset(offset))
    )


def _apply(item: TrainerInboxItem, body: LabelIn, user: User, now: datetime) -> str:
    """Labels one item; returns the audit action."""
    if body.discard:
        item.status, item.label, action = "discarded", None, "inbox_discard"
    elif body.correct:
        if item.predicted_intent not in INTENTS:
            raise LabelError(
                409, "Botten gættede ikke på en hensigt her. Vælg den rigtige hensigt i stedet."
            )
        item.status, item.label, action = "accepted", item.predicted_intent, "inbox_correct"
    else:
        item.status, item.label, action = "accepted", body.intent, "inbox_label"
    item.labelled_by = user.id
    item.labelled_at = now
    return action


NOT_FOUND = "Beskeden findes ikke i indbakken."


def label_item(session: Session, item_id: int, body: LabelIn, user: User) -> TrainerInboxItem:
    item = session.get(TrainerInboxItem, item_id, with_for_update=True)
    if item is None:
        raise LabelError(404, NOT_FOUND)
    action = _apply(item, body, user, utcnow())
    audit_trail.audit(session, user, None, action, reason=item.label)
    return item


def label_batch(session: Session, body: BatchLabelIn, user: User) -> int:
    """All or nothing: an unknown id, or `correct` on an item without a prediction, changes none."""
    ids = sorted(set(body.ids))
    items = list(
        session.scalars(
            select(TrainerInboxItem)
            .where(TrainerInboxItem.id.in_(ids))
            .order_by(TrainerInboxItem.id)
            .with_for_update()
        )
    )
    if len(items) != len(ids):
        raise LabelError(404, "En eller flere beskeder findes ikke i indbakken. Intet er ændret.")
    now = utcnow()
    action = ""
    for item in items:
        action = _apply(item, body, user, now)
    audit_trail.audit(
        session, user, None, "inbox_batch_" + action.removeprefix("inbox_"), reason=items[0].label
    )
    return len(items)


def undo_label(session: Session, item_id: int, user: User) -> TrainerInboxItem:
    item = session.get(TrainerInboxItem, item_id, with_for_update=True)
    if item is None:
        raise LabelError(404, NOT_FOUND)
    item.status, item.label, item.labelled_by, item.labelled_at = "open", None, None, None
    audit_trail.audit(session, user, None, "inbox_undo")
    return item
