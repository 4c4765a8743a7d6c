"""The shift's tools for a counsellor in a handed-off conversation (issue #13, part 4).

- Canned replies: only the approved content library (triage_core/content/*.yml), rendered with
  the real emergency numbers, plus the approved numbers themselves. Nothing here invents text;
  an item's title is its theme's title and the first sentence of its first bubble.
- Internal notes: staff only, never shown to the young person, never logged, deleted with the
  conversation; the audit trail records "note_added", never the text.
- Transfer: the holder hands an active conversation to a named colleague (an active counsellor
  or admin); back to the queue is the release route with a reason code.
- Labels for what the bot gave (content item ids → their titles) and the first young message of
  a queue row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from handoff_service.audit import audit
from handoff_service.conversations import add_message
from handoff_service.db import utcnow
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation, ConversationNote, Message, User
from handoff_service.organisations import may_see_queue, queue_ids_for
from handoff_service.schemas import ContentLabelOut, TextIn
from handoff_service.texts import content_library
from triage_core.content_library import ContentItem, ContentLibrary

#: Why a conversation goes back to the queue: fixed codes (kept in the audit row), Danish labels.
RELEASE_REASONS: dict[str, str] = {
    "shift_ending": "Min vagt slutter",
    "needs_other_counsellor": "En anden rådgiver er bedre til emnet",
    "too_many_conversations": "Jeg har for mange samtaler lige nu",
    "technical_problem": "Teknisk problem hos mig",
    "other": "Andet",
}
#: The young person's line when another counsellor takes over (a bot line, as with a release).
TRANSFER_NOTICE = (
    "En anden rådgiver tager over din samtale nu. Rådgiveren kan læse det, I har skrevet, så du "
    "behøver ikke at fortælle det hele igen. Dine beskeder er gemt."
)
FIRST_MESSAGE_CHARS = 120
TITLE_SNIPPET_CHARS = 60
EMERGENCY_NUMBERS_ID = "emergency_numbers"
EMERGENCY_NUMBERS_THEME = "emergency_numbers"
EMERGENCY_NUMBERS_TITLE = "Nødnumre"
STAFF_ROLES = ("counsellor", "admin")
NOT_THEIR_QUEUE = (
    "Kollegaen kan ikke tage samtaler fra denne kø. Henvis samtalen til deres kommune i stedet."
)

NOT_YOURS = "Samtalen er ikke din lige nu. Tag den fra køen først."
NO_SUCH_COLLEAGUE = "Kollegaen findes ikke, er ikke aktiv eller er ikke rådgiver."
NOT_TO_YOURSELF = "Du har allerede samtalen. Vælg en anden kollega."

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


class CannedReplyOut(BaseModel):
    id: str
    theme: str
    theme_title: str
    title: str
    text: str


class NoteIn(TextIn):
    """An internal note: cleaned and limited like a message."""


class NoteOut(BaseModel):
    id: int
    text: str
    user_id: int | None
    username: str | None
    created_at: datetime


class ColleagueOut(BaseModel):
    id: int
    username: str
    role: str


class TransferIn(BaseModel):
    to_user_id: int = Field(ge=1, le=2_147_483_647)


class ReleaseIn(BaseModel):
    """Why the conversation goes back to the queue: one of RELEASE_REASONS (a code)."""

    reason: (
        Literal[
            "shift_ending",
            "needs_other_counsellor",
            "too_many_conversations",
            "technical_problem",
            "other",
        ]
        | None
    ) = None


class ReleaseReasonOut(BaseModel):
    code: str
    label: str


class TransferError(Exception):
    """A transfer the service refuses; `status` and a Danish `detail` for the response."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


# -- titles and labels from the library --------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip(" ,;:–-") + "…"


def item_title(item: ContentItem, library: ContentLibrary) -> str:
    """The theme's title and the first sentence of the item's first bubble (library text only)."""
    theme = library.themes.get(item.theme)
    first = library.render(item)[0] if item.bubbles else ""
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
    snippet = _cut(sentence, TITLE_SNIPPET_CHARS)
    return f"{theme.title} – {snippet}" if theme else snippet


def content_labels(
    item_ids: Iterable[str], library: ContentLibrary | None = None
) -> list[ContentLabelOut]:
    """Danish titles for the content the bot gave (unknown ids are shown as they are)."""
    library = library or content_library()
    labels = []
    for item_id in dict.fromkeys(item_ids):
        item = library.get(item_id)
        labels.append(
            ContentLabelOut(id=item_id, title=item_title(item, library) if item else item_id)
        )
    return labels


def theme_titles(item_ids: Iterable[str], library: ContentLibrary | None = None) -> list[str]:
    """The themes of the given items, once each, for the queue's one-line summary."""
    library = library or content_library()
    titles = []
    for item_id in item_ids:
        item = library.get(item_id)
        theme = library.themes.get(item.theme) if item else None
        titles.append(theme.title if theme else item_id)
    return list(dict.fromkeys(titles))


# -- canned replies ----------------------------------------------------------------------------


def emergency_numbers_text(library: ContentLibrary, now: datetime) -> str:
    """The approved numbers as one reply, from the library's own fields (name, number, hours).

    A line whose hours the library does not know is left out, as in the bot's bubbles (make
    content-check); a line closed now says when it opens."""
    lines = []
    for number in library.sendable_numbers(now.date()):
        if number.open_windows is None:
            continue
        opens = number.opens_text(now)
        state = f" – lukket nu, {opens}" if opens else ""
        lines.append(f"{number.name}: {number.number} · {number.hours}{state}")
    return "\n".join(lines)


def canned_replies(
    now: datetime | None = None, library: ContentLibrary | None = None
) -> list[CannedReplyOut]:
    """Every sendable item (approved, sourced, not past review, numbers resolving), rendered with
    the real numbers (a line closed now says when it opens), in the library's order; first the
    approved emergency numbers."""
    now = now or datetime.now(UTC)
    library = library or content_library()
    replies = [
        CannedReplyOut(
            id=EMERGENCY_NUMBERS_ID,
            theme=EMERGENCY_NUMBERS_THEME,
            theme_title=EMERGENCY_NUMBERS_TITLE,
            title=EMERGENCY_NUMBERS_TITLE,
            text=emergency_numbers_text(library, now),
        )
    ]
    themes = sorted(library.themes.values(), key=lambda theme: theme.order)
    order = {theme.slug: index for index, theme in enumerate(themes)}
    for item in sorted(library.items, key=lambda i: (order.get(i.theme, 999), i.rank)):
        if not library.is_sendable(item, now.date()):
            continue
        theme = library.themes[item.theme]
        replies.append(
            CannedReplyOut(
                id=item.id,
                theme=item.theme,
                theme_title=theme.title,
                title=item_title(item, library),
                text="\n\n".join(library.render(item, now=now)),
            )
        )
    return replies


# -- the first young message of a queue row ----------------------------------------------------


def first_message(conversation: Conversation) -> str | None:
    """The young person's first message, cut to about 120 characters (staff only)."""
    session = object_session(conversation)
    if session is None:
        return None
    text = session.scalar(
        select(Message.text)
        .where(Message.conversation_id == conversation.id, Message.sender == "young")
        .order_by(Message.id)
        .limit(1)
    )
    return _cut(text, FIRST_MESSAGE_CHARS) if text else None


# -- internal notes ----------------------------------------------------------------------------


def list_notes(session: Session, conversation: Conversation) -> list[NoteOut]:
    rows = session.execute(
        select(ConversationNote, User.username)
        .outerjoin(User, User.id == ConversationNote.user_id)
        .where(ConversationNote.conversation_id == conversation.id)
        .order_by(ConversationNote.id)
    ).all()
    return [_note_out(note, username) for note, username in rows]


def add_note(session: Session, conversation: Conversation, user: User, text: str) -> NoteOut:
    """Stores the note and audits "note_added" (who and where, never the text)."""
    note = ConversationNote(conversation_id=conversation.id, user_id=user.id, text=text)
    session.add(note)
    audit(session, user, conversation.id, "note_added")
    session.flush()
    return _note_out(note, user.username)


def _note_out(note: ConversationNote, username: str | None) -> NoteOut:
    return NoteOut(
        id=note.id,
        text=note.text,
        user_id=note.user_id,
        username=username,
        created_at=note.created_at,
    )


# -- transfer ----------------------------------------------------------------------------------


def _share_a_queue(session: Session, a: User, b: User) -> bool:
    mine, theirs = queue_ids_for(session, a), queue_ids_for(session, b)
    return mine is None or theirs is None or bool(mine & theirs)


def colleagues(session: Session, me: User) -> list[ColleagueOut]:
    """Who a conversation can be handed to: active counsellors and admins other than the caller
    who take from at least one of the caller's queues (docs/organisations.md)."""
    users = session.scalars(
        select(User)
        .where(User.is_active.is_(True), User.role.in_(STAFF_ROLES), User.id != me.id)
        .order_by(User.username)
    )
    return [
        ColleagueOut(id=u.id, username=u.username, role=u.role)
        for u in users
        if _share_a_queue(session, me, u)
    ]


def transfer(
    session: Session, conversation: Conversation, holder: User, to_user_id: int
) -> tuple[User, Message]:
    """Hands the holder's active conversation to a colleague: it stays active, the colleague
    holds it, audited "transfer" with the colleague as subject; the young person gets a bot line.
    """
    if conversation.status != ConversationStatus.ACTIVE or conversation.counsellor_id != holder.id:
        raise TransferError(409, NOT_YOURS)
    if to_user_id == holder.id:
        raise TransferError(422, NOT_TO_YOURSELF)
    colleague = session.get(User, to_user_id)
    if colleague is None or not colleague.is_active or colleague.role not in STAFF_ROLES:
        raise TransferError(422, NO_SUCH_COLLEAGUE)
    if not may_see_queue(session, colleague, conversation.organisation_id):
        raise TransferError(422, NOT_THEIR_QUEUE)
    conversation.counsellor_id = colleague.id
    # The hand-over counts as the colleague's first sign of being there (stale_claims.py): the
    # stale-claim clock starts now, not at the first holder's claim.
    conversation.counsellor_active_at = utcnow()
    message = add_message(session, conversation, "bot", TRANSFER_NOTICE)
    audit(session, holder, conversation.id, "transfer", subject_user_id=colleague.id)
    session.flush()
    return colleague, message
