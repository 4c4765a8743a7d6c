"""The states of a conversation and who can write in it."""

from __future__ import annotations

from enum import StrEnum


class ConversationStatus(StrEnum):
    """Where a conversation is; members compare equal to the strings stored in the database."""

    BOT = "bot"  # with the bot
    QUEUED = "queued"  # waiting for a counsellor
    ACTIVE = "active"  # a counsellor holds it
    CLOSED = "closed"  # ended; the young person may come back with the token


class Sender(StrEnum):
    YOUNG = "young"
    BOT = "bot"
    COUNSELLOR = "counsellor"
