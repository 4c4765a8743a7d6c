"""Request and response schemas. ORM objects are never returned directly."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

# Control characters except tab and newline; they carry no meaning in a chat and can hide text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
MAX_MESSAGE_CHARS = 2000

Status = Literal["bot", "queued", "active", "closed"]
Risk = Literal["normal", "high", "critical"]


def clean_text(value: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


class TextIn(BaseModel):
    text: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        cleaned = clean_text(value)
        if not cleaned:
            raise ValueError("Beskeden er tom.")
        return cleaned


class MessageIn(TextIn):
    pass


class ReplyIn(TextIn):
    # True: the young person is not there now; the answer waits for them like a letter.
    leave_for_later: bool = False


class CloseIn(BaseModel):
    outcome: Literal[
        "talked", "answered_letterbox", "referred", "emergency_services", "no_response", "other"
    ] = "talked"


class MessageOut(BaseModel):
    id: int
    sender: Literal["young", "bot", "counsellor"]
    text: str
    created_at: datetime


class QueueInfo(BaseModel):
    position: int
    eta_minutes: int | None
    shift_open: bool
    next_shift_start: datetime | None
    next_shift_text: str | None = None
    waiting_count: int


class ConversationCreated(BaseModel):
    id: str
    token: str
    status: Status
    messages: list[MessageOut]


class ConversationOut(BaseModel):
    id: str
    status: Status
    risk: Risk
    topic: str | None
    queue: QueueInfo | None
    messages: list[MessageOut]


class TurnOut(BaseModel):
    messages: list[MessageOut]
    status: Status
    queue: QueueInfo | None


class ServiceStatus(BaseModel):
    shift_open: bool
    current_shift_end: datetime | None
    current_shift_end_text: str | None
    next_shift_start: datetime | None
    next_shift_text: str | None
    waiting_count: int
    eta_minutes: int | None


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in: int


class UserOut(BaseModel):
    id: int
    username: str
    role: str


class Triage(BaseModel):
    """What the bot learned, passed on so the young person does not have to repeat it."""

    risk: Risk = "normal"
    topic: str | None = Field(default=None, max_length=64)
    intents: list[str] = Field(default_factory=list, max_length=100)
    entities: dict[str, list[str]] = Field(default_factory=dict)
    content_given: list[str] = Field(default_factory=list, max_length=200)
    reason: str | None = Field(default=None, max_length=64)


class QueueItemOut(BaseModel):
    id: str
    position: int
    risk: Risk
    risk_label: str
    topic: str | None
    topic_label: str
    waiting_minutes: int
    queued_at: datetime
    summary: str


class CounsellorConversationOut(BaseModel):
    id: str
    status: Status
    risk: Risk
    topic: str | None
    triage: dict[str, Any]
    summary: str
    counsellor_id: int | None
    anonymity_broken: bool
    queued_at: datetime | None
    claimed_at: datetime | None
    messages: list[MessageOut]
