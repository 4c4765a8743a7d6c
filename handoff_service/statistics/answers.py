"""The young person's anonymous feedback and the counsellor's registration after closing.

Both are fixed codes only (handoff_service/statistics/codes.py), stored on the conversation
(deleted with it by retention) and counted by :func:`record` in the same transaction. The answers
are never logged and never audited with their content.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.errors import Conflict
from handoff_service.models import Conversation, User
from handoff_service.statistics.cells import record
from handoff_service.statistics.codes import AGE_BANDS, GENDERS, REFERRALS, REGISTRATION_TOPICS

logger = logging.getLogger(__name__)

ALREADY_ANSWERED = "Du har allerede svaret. Tak!"
NOT_OVER_YET = "Du kan svare, når samtalen er slut."
NO_ANSWER = "Vælg mindst ét svar, eller spring over."
REGISTER_AFTER_CLOSE = "Du kan registrere samtalen, når den er lukket."


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    helped: Literal["ja", "lidt", "nej"] | None = None
    write_again: Literal["ja", "maaske", "nej"] | None = None
    rating: Literal[1, 2, 3, 4, 5] | None = None

    @model_validator(mode="after")
    def at_least_one(self) -> FeedbackIn:
        if self.helped is None and self.write_again is None and self.rating is None:
            raise ValueError(NO_ANSWER)
        return self


class FeedbackRecorded(BaseModel):
    recorded: bool = True


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"Ukendt {what}.")
    return value


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[str] = Field(min_length=1, max_length=5)
    age_band: str = Field(max_length=32)
    gender: str = Field(max_length=32)
    referral: str = Field(max_length=32)

    @field_validator("topics")
    @classmethod
    def known_topics(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            _one_of(topic, REGISTRATION_TOPICS, "emne")
        if len(set(topics)) != len(topics):
            raise ValueError("Vælg hvert emne én gang.")
        return topics

    @field_validator("age_band")
    @classmethod
    def known_age_band(cls, value: str) -> str:
        return _one_of(value, AGE_BANDS, "alder")

    @field_validator("gender")
    @classmethod
    def known_gender(cls, value: str) -> str:
        return _one_of(value, GENDERS, "køn")

    @field_validator("referral")
    @classmethod
    def known_referral(cls, value: str) -> str:
        return _one_of(value, REFERRALS, "henvisning")


class RegistrationOut(BaseModel):
    topics: list[str]
    age_band: str
    gender: str
    referral: str


class OptionOut(BaseModel):
    value: str
    label: str


class RegistrationOptions(BaseModel):
    topics: list[OptionOut]
    age_bands: list[OptionOut]
    genders: list[OptionOut]
    referrals: list[OptionOut]


def save_feedback(session: Session, conversation: Conversation, body: FeedbackIn) -> None:
    """One answer per conversation, once it is over (closed, or a bot-only conversation)."""
    if conversation.feedback is not None:
        raise Conflict(ALREADY_ANSWERED)
    if conversation.status not in ("closed", "bot"):
        raise Conflict(NOT_OVER_YET)
    conversation.feedback = {
        "helped": body.helped,
        "write_again": body.write_again,
        "rating": None if body.rating is None else str(body.rating),
    }
    record(session, conversation)
    logger.info("feedback recorded")  # never the answers, never the conversation


def save_registration(
    session: Session, conversation: Conversation, user: User, body: RegistrationIn
) -> RegistrationOut:
    """The counsellor's registration of a closed conversation; a new one replaces the old."""
    if conversation.status != "closed":
        raise Conflict(REGISTER_AFTER_CLOSE)
    registration = RegistrationOut(
        topics=list(body.topics),
        age_band=body.age_band,
        gender=body.gender,
        referral=body.referral,
    )
    conversation.registration = registration.model_dump()
    audit(session, user, conversation.id, "registration_saved")
    record(session, conversation)
    return registration


def registration_out(conversation: Conversation) -> RegistrationOut | None:
    stored = conversation.registration
    return RegistrationOut.model_validate(stored) if stored else None


def registration_options(texts: dict[str, Any]) -> RegistrationOptions:
    labels = texts["statistics"]
    topic_labels = texts["topic_labels"]

    def options(codes: tuple[str, ...], names: dict[str, str]) -> list[OptionOut]:
        return [OptionOut(value=code, label=names[code]) for code in codes]

    return RegistrationOptions(
        topics=options(REGISTRATION_TOPICS, topic_labels),
        age_bands=options(AGE_BANDS, labels["age_bands"]),
        genders=options(GENDERS, labels["genders"]),
        referrals=options(REFERRALS, labels["referrals"]),
    )
