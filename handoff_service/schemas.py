"""Request and response schemas. ORM objects are never returned directly."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

# Control characters except tab and newline; they carry no meaning in a chat and can hide text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
MAX_MESSAGE_CHARS = 2000

_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
MAX_NOTE_CHARS = 200

Status = Literal["bot", "queued", "active", "closed"]
Risk = Literal["normal", "high", "critical"]
Role = Literal["counsellor", "trainer", "admin", "leader"]


def clean_text(value: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


def clean_line(value: str) -> str:
    """One line of text: NFC, no control characters at all (not even newlines)."""
    return _CONTROL_ALL.sub("", unicodedata.normalize("NFC", value)).strip()


class ErrorOut(BaseModel):
    """Every refusal the service sends, whatever its status: one short Danish sentence.

    Also the 422 of a request that fails validation (main.py turns pydantic's list of problems
    into one sentence naming the field), so the schema never promises a list.
    """

    detail: str = Field(examples=["Samtalen findes ikke, eller koden til den passer ikke."])


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Sekunder, før det giver mening at prøve igen (når tjenesten ved det).",
        "schema": {"type": "integer", "minimum": 1},
    }
}
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Forespørgslen kan ikke læses (fx ugyldig JSON eller en forkert Content-Length).",
    401: "Mangler login eller koden til samtalen, eller den er udløbet eller forkert.",
    403: "Rollen (eller den interne nøgle) giver ikke adgang til dette.",
    404: "Findes ikke, eller koden passer ikke (de to ser ens ud).",
    409: "Strider mod samtalens eller dataenes tilstand lige nu.",
    413: "Forespørgslen er for stor.",
    422: "Ugyldige data; `detail` siger hvilket felt og hvorfor.",
    429: "For mange forespørgsler lige nu; vent og prøv igen.",
    503: "Tjenesten er midlertidigt optaget eller har et problem; prøv igen om lidt.",
}
#: What a request with a body can be refused with before its route runs (main.py, edge.py).
BODY_ERRORS = (400, 413, 422)


#: The 200 of a live feed (Server-Sent Events: `event:` and `data:` lines, `data` is JSON).
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: først et øjebliksbillede, så én hændelse pr. ændring.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the refusals a route really sends, all as :class:`ErrorOut`."""
    return {
        code: {
            "model": ErrorOut,
            "description": ERROR_DESCRIPTIONS[code],
            **({"headers": _RETRY_AFTER} if code in (429, 503) else {}),
        }
        for code in sorted(set(codes))
    }


class TextIn(BaseModel):
    """A message from the young person or a counsellor's reply."""

    text: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("text", mode="before")
    @classmethod
    def nfc_before_length(cls, value: Any) -> Any:
        # The length limit counts what is stored: NFC first (2,000 U+FB2C are 6,000 characters in
        # NFC; 2,000 decomposed "å" are 1,000), then max_length and the cleaning below.
        return unicodedata.normalize("NFC", value) if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def not_blank(cls, value: str) -> str:
        cleaned = clean_text(value)
        if not cleaned:
            raise ValueError("Beskeden er tom.")
        return cleaned


class MessageIn(TextIn):
    # The page's own id for this message (random, reused when it sends again after an error): a
    # retry with the same id returns the first turn and stores nothing new.
    client_message_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$"
    )


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
    # Button titles of a bot line (Rasa quick replies); sending one is sending its title as text.
    quick_replies: list[str] | None = None


class OrganisationRef(BaseModel):
    slug: str
    name: str


class QueueInfo(BaseModel):
    """A waiting young person's place in their queue (an organisation's, docs/organisations.md);
    the shift figures are that queue's."""

    position: int
    eta_minutes: int | None
    shift_open: bool
    next_shift_start: datetime | None
    next_shift_text: str | None = None
    waiting_count: int
    queue: OrganisationRef | None = None
    # One sentence: which queue, and why (e.g. the municipality is closed, the network is open).
    queue_text: str | None = None


class ConversationCreated(BaseModel):
    id: str
    token: str
    # The short code to come back with from any device (e.g. "K7QM-3XPD-9T"); shown once,
    # only its keyed hash is stored.
    pickup_code: str
    status: Status
    messages: list[MessageOut]
    # The page the conversation started on (the default organisation's for /).
    organisation: OrganisationRef | None = None


class PickupIn(BaseModel):
    code: str = Field(max_length=64)


class PickedUp(BaseModel):
    """A conversation opened with its pickup code: a fresh token (the old one stops working)."""

    id: str
    token: str
    status: Status


class ConversationOut(BaseModel):
    id: str
    status: Status
    risk: Risk
    topic: str | None
    queue: QueueInfo | None
    messages: list[MessageOut]
    # The young person has answered the feedback questions (docs/statistics.md).
    feedback_given: bool = False
    # The page the conversation started on ("/" or "/ung/<slug>"), so a page of another
    # organisation that finds it in the tab can go back to it.
    organisation: OrganisationRef | None = None
    organisation_page: str | None = None


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
    counsellors_on_shift: int
    waiting_count: int
    # Expected wait for someone handed off now (the next place in the queue).
    eta_minutes: int | None
    # The queue these figures are for: where a conversation handed off now would wait.
    queue: OrganisationRef | None = None
    queue_text: str | None = None


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)

    @field_validator("username")
    @classmethod
    def normalise_username(cls, value: str) -> str:
        return clean_line(value).lower()


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    role: str
    expires_in: int


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    # The organisation the user works for; None: the whole platform.
    organisation: OrganisationRef | None = None


class StaffUserOut(UserOut):
    is_active: bool
    locked: bool
    created_at: datetime


USERNAME_PATTERN = r"^[a-z0-9æøå][a-z0-9æøå._-]{2,63}$"
MIN_PASSWORD_CHARS = 12


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=256)
    role: Role
    # The organisation (slug); an organisation's admin may only give their own; None: theirs
    # (a platform admin's None: platform-wide).
    organisation: str | None = Field(default=None, max_length=40)

    @field_validator("username")
    @classmethod
    def normalise_username(cls, value: str) -> str:
        cleaned = clean_line(value).lower()
        if not re.fullmatch(USERNAME_PATTERN, cleaned):
            raise ValueError(
                "Brugernavnet må kun have små bogstaver, tal, punktum, bindestreg og understreg."
            )
        return cleaned


class UserChangeIn(BaseModel):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_CHARS, max_length=256)
    is_active: bool | None = None
    unlock: bool = False


def _short(value: Any, limit: int = 64) -> str:
    return clean_line(str(value))[:limit]


class Triage(BaseModel):
    """What the bot learned, passed on so the young person does not have to repeat it.

    Cleaned, never refused: a handoff must not fail because one label is odd, and an unknown
    risk level counts as high (when in doubt about risk, escalate).
    """

    risk: Risk = "normal"
    topic: str | None = None
    intents: list[str] = Field(default_factory=list)
    entities: dict[str, list[str]] = Field(default_factory=dict)
    content_given: list[str] = Field(default_factory=list)
    reason: str | None = None

    @field_validator("risk", mode="before")
    @classmethod
    def unknown_risk_is_high(cls, value: Any) -> str:
        if value is None:
            return "normal"
        return value if value in ("normal", "high", "critical") else "high"

    @field_validator("topic", "reason", mode="before")
    @classmethod
    def short_label(cls, value: Any) -> str | None:
        return (_short(value) or None) if value is not None else None

    @field_validator("intents", "content_given", mode="before")
    @classmethod
    def short_labels(cls, value: Any) -> list[str]:
        items = value if isinstance(value, list) else []
        return [
            label for label in (_short(item) for item in items[:200] if item is not None) if label
        ]

    @field_validator("entities", mode="before")
    @classmethod
    def short_entities(cls, value: Any) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            return {}
        cleaned: dict[str, list[str]] = {}
        for name, values in list(value.items())[:20]:
            items = values if isinstance(values, list) else [values]
            labels = [label for label in (_short(v) for v in items[:20] if v is not None) if label]
            if labels and _short(name):
                cleaned[_short(name, 32)] = labels
        return cleaned


class ContentLabelOut(BaseModel):
    """A content item the bot gave, by id and its Danish title (handoff_service/shift_tools.py)."""

    id: str
    title: str


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
    # Staff only: the young person's first message, cut to about 120 characters.
    first_message: str | None = None
    content_given: list[ContentLabelOut] = Field(default_factory=list)
    # The queue it waits in and the page it started on (docs/organisations.md).
    queue: OrganisationRef | None = None
    origin: OrganisationRef | None = None


class GuidanceSource(BaseModel):
    title: str
    reference: str


class DutyToReport(BaseModel):
    """Guidance on skærpet underretningspligt for every conversation (duty_to_report_da.yml)."""

    title: str
    summary: str
    steps: list[str]
    sources: list[GuidanceSource]


class CounsellorConversationOut(BaseModel):
    id: str
    status: Status
    risk: Risk
    risk_label: str
    topic: str | None
    topic_label: str
    triage: dict[str, Any]
    summary: str
    counsellor_id: int | None
    outcome: str | None
    anonymity_broken: bool
    anonymity_broken_at: datetime | None
    duty_to_report: DutyToReport
    queued_at: datetime | None
    claimed_at: datetime | None
    closed_at: datetime | None
    messages: list[MessageOut]
    # What the bot gave, with each item's Danish title from the content library.
    content_given: list[ContentLabelOut] = Field(default_factory=list)
    queue: OrganisationRef | None = None
    origin: OrganisationRef | None = None


# -- organisations (docs/organisations.md) ---------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"


class LocalInfoItem(BaseModel):
    """A local service on an organisation's page: approved content, with its source."""

    title: str = Field(min_length=1, max_length=120)
    text: str = Field(default="", max_length=600)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=300)
    source: str = Field(min_length=1, max_length=300)


class OpeningHoursOut(BaseModel):
    weekday: int
    weekday_name: str
    text: str  # "kl. 19-21"


class OrganisationOut(BaseModel):
    """Public: what the list of pages and a municipality's page show."""

    slug: str
    name: str
    kind: str
    is_default: bool
    network: OrganisationRef | None
    open_now: bool
    next_opening: datetime | None
    next_opening_text: str | None
    page: str  # the young person's page, /ung/<slug> (/ for the default)


class OrganisationPageOut(OrganisationOut):
    presentation: str
    age_range: str
    confidentiality: str
    local_info: list[LocalInfoItem]
    hours: list[OpeningHoursOut]
    closed_dates: list[date]
    members: list[OrganisationRef]
    # One sentence on where a young person who writes now will wait, and why.
    routing_text: str


class OrganisationIn(BaseModel):
    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=2, max_length=120)
    kind: Literal["municipality", "network", "service"] = "municipality"
    network: str | None = Field(default=None, max_length=40)
    presentation: str = Field(default="", max_length=2000)
    age_range: str = Field(default="", max_length=40)
    confidentiality: str = Field(default="", max_length=2000)
    local_info: list[LocalInfoItem] = Field(default_factory=list, max_length=20)


class OrganisationChangeIn(BaseModel):
    """What an organisation's own admin may change (its content); the network only a platform
    admin."""

    name: str | None = Field(default=None, min_length=2, max_length=120)
    network: str | None = Field(default=None, max_length=40)
    leave_network: bool = False
    presentation: str | None = Field(default=None, max_length=2000)
    age_range: str | None = Field(default=None, max_length=40)
    confidentiality: str | None = Field(default=None, max_length=2000)
    local_info: list[LocalInfoItem] | None = Field(default=None, max_length=20)


class ReferIn(BaseModel):
    organisation: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=32)


class ReferralReasonOut(BaseModel):
    code: str
    label: str


class ReferralTargetOut(BaseModel):
    slug: str
    name: str
    kind: str
    open_now: bool
    next_opening_text: str | None
    reasons: list[ReferralReasonOut]


class ReferredOut(BaseModel):
    conversation_id: str
    organisation: OrganisationRef
    queue: QueueInfo | None


class ConversationStartIn(BaseModel):
    """The page the young person starts on (POST /api/v1/conversations; no body: /)."""

    organisation: str | None = Field(default=None, max_length=40)


# -- shift calendar -------------------------------------------------------------------------


def wall_clock(value: time | None) -> time | None:
    """Shift times are Danish wall-clock times to the minute; a UTC offset would be ambiguous."""
    if value is None:
        return None
    if value.tzinfo is not None:
        raise ValueError("Angiv klokkeslæt uden tidszone – det er altid dansk tid.")
    return value.replace(second=0, microsecond=0)


_WALL_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"


def _wall_clock_schema(schema: dict[str, Any]) -> None:
    """In the OpenAPI schema a shift time is a Danish wall-clock time ("17:00:00"), not an RFC
    3339 `time` (which has a UTC offset the service refuses). Schema only; parsing is unchanged."""
    for item in [schema, *schema.get("anyOf", [])]:
        if item.get("format") == "time":
            del item["format"]
            item["pattern"] = _WALL_CLOCK_PATTERN
            item["description"] = "Dansk tid uden tidszone, fx 17:00"


WallClock = Field(json_schema_extra=_wall_clock_schema)


class WeeklyShiftIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = mandag … 6 = søndag")
    starts_at: time = WallClock
    ends_at: time = WallClock
    counsellors: int = Field(default=1, ge=1, le=50)
    # A network's shift: the member organisation (slug) whose counsellors staff it.
    staffed_by: str | None = Field(default=None, max_length=40)

    _wall_clock = field_validator("starts_at", "ends_at")(wall_clock)


class WeeklyShiftOut(WeeklyShiftIn):
    id: int
    weekday_name: str


class ShiftExceptionIn(BaseModel):
    on_date: date
    kind: Literal["closed", "extra"]
    starts_at: time | None = Field(default=None, json_schema_extra=_wall_clock_schema)
    ends_at: time | None = Field(default=None, json_schema_extra=_wall_clock_schema)
    counsellors: int = Field(default=1, ge=1, le=50)
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)
    staffed_by: str | None = Field(default=None, max_length=40)

    _wall_clock = field_validator("starts_at", "ends_at")(wall_clock)

    @field_validator("note")
    @classmethod
    def clean_note(cls, value: str | None) -> str | None:
        return (clean_line(value) or None) if value is not None else None

    @model_validator(mode="after")
    def times_only_for_extra_shifts(self) -> ShiftExceptionIn:
        if self.kind == "closed":
            self.starts_at = self.ends_at = None
        return self


class ShiftExceptionOut(ShiftExceptionIn):
    id: int


class ShiftWindowOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    counsellors: int
    text: str


class ShiftCalendarOut(BaseModel):
    timezone: str
    organisation: OrganisationRef
    weekly: list[WeeklyShiftOut]
    exceptions: list[ShiftExceptionOut]
    upcoming: list[ShiftWindowOut]
    status: ServiceStatus


class AuditEventOut(BaseModel):
    id: int
    action: str
    user_id: int | None
    username: str | None
    conversation_id: str | None
    subject_user_id: int | None
    created_at: datetime
