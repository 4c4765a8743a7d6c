"""The validated psychoeducation library: loads triage_core/content/*.yml, decides what may be sent.

Pure Python (stdlib + PyYAML) so that both the Rasa action server (Python 3.10) and the handoff
service (Python 3.11+) can import it. The bot may only send items that pass every check in
``item_problems``: approved, sourced, not past their review date, chat-sized, with every
emergency-number placeholder resolving to an approved number. ``triage_core.content_check`` runs
the same checks over the whole library and fails CI on any problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from triage_core.taxonomy import DANGER_KINDS, INTENTS

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent / "content"
NUMBERS_FILE = "emergency_numbers.yml"

# The intent taxonomy (triage_core/taxonomy.py); content may answer these and nothing else.
KNOWN_INTENTS: frozenset[str] = frozenset(INTENTS)
# Every topic intent is answered "validate, then one psychoeducation item, then offer more"; two
# psychoeducation items at least, so that a repeated topic never gets the same item twice.
MIN_PSYCHOEDUCATION_PER_TOPIC = 2
# Intents that must have an approved info item, and what the item is about.
INFO_INTENTS: Mapping[str, str] = {
    "ask_anonymity": "anonymity, tavshedspligt and skærpet underretningspligt",
    "request_human": "what happens when you talk to a counsellor",
}

# What the young person does in a turn, besides naming a topic: follow-up questions, answers to
# the bot's safety question, taking something back. bot/context_cues.yml recognises them; an
# item of kind "followup" answers one of them in the context of a topic or a danger kind.
FOLLOWUPS: tuple[str, ...] = (
    "what_to_do",
    "is_dangerous",
    "how_to_stop",
    "happened_before",
    "cannot_help",
    "afraid_to_call",
    "location",
    "will_you_report",
    "safe_now",
    "not_safe",
    "taking_back",
    "afraid_of_carer",
    "not_understood",
    "reminder",
)
# Follow-ups that must have an answer for every danger kind (the rest may use "general").
FOLLOWUPS_PER_DANGER: tuple[str, ...] = ("what_to_do",)
# Follow-ups that must have a general answer in a danger conversation.
FOLLOWUPS_IN_DANGER: tuple[str, ...] = (
    "what_to_do",
    "is_dangerous",
    "happened_before",
    "cannot_help",
    "afraid_to_call",
    "location",
    "will_you_report",
    "safe_now",
    "taking_back",
    "not_understood",
    "reminder",
)

KINDS: tuple[str, ...] = ("validation", "psychoeducation", "emergency", "info", "followup")
STATUSES: tuple[str, ...] = ("draft", "approved")
MAX_BUBBLES = 3
MAX_VALIDATION_BUBBLES = 1
# A turn is at most three bubbles: emergency guidance leaves room for the line about the queue,
# psychoeducation for the offer of a counsellor.
MAX_BUBBLES_OF_KIND: Mapping[str, int] = {
    "validation": 1,
    "emergency": 2,
    "followup": 2,
    "psychoeducation": 2,
}
MAX_BUBBLE_CHARS = 300
DANISH_TIME = ZoneInfo("Europe/Copenhagen")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES_DA = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
_CARER_PLACEHOLDER = re.compile(r"\{carer(?::([^{}]+))?\}")
DEFAULT_CARER = "din mor eller far"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{number:([a-z0-9_]+)\}")
_ITEM_FIELDS = frozenset(
    {
        "id",
        "kind",
        "intents",
        "bubbles",
        "source",
        "approved_by",
        "approved_at",
        "review_by",
        "status",
        "danger",
        "followup",
    }
)
_OPTIONAL_FIELDS = frozenset({"source", "approved_by", "approved_at", "danger", "followup", "open"})
_NUMBER_FIELDS = frozenset(
    {
        "id",
        "name",
        "number",
        "tel",
        "when",
        "hours",
        "open",
        "source",
        "approved_by",
        "approved_at",
        "review_by",
        "status",
    }
)


@dataclass(frozen=True)
class OpenWindow:
    """A line is open from ``opens`` on each of ``days``, for ``minutes`` (past midnight too)."""

    days: tuple[int, ...]  # 0 = Monday
    opens: time
    minutes: int

    def spans(self, moment: datetime) -> bool:
        for back in (0, 1):
            day = moment.date() - timedelta(days=back)
            if day.weekday() not in self.days:
                continue
            start = datetime.combine(day, self.opens, moment.tzinfo)
            if start <= moment < start + timedelta(minutes=self.minutes):
                return True
        return False


def parse_open_window(spec: str) -> OpenWindow:
    """``"mon-sun 11:00-05:00"`` or ``"mon,wed 17:00-21:00"``; ValueError says what is wrong."""
    match = re.fullmatch(r"\s*([a-z,\-]+)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s*", spec)
    if not match:
        raise ValueError(f"opening hours {spec!r} must look like 'mon-sun 11:00-05:00'")
    days: list[int] = []
    for part in match.group(1).split(","):
        ends = part.split("-")
        if len(ends) not in (1, 2) or any(end not in _WEEKDAYS for end in ends):
            raise ValueError(f"unknown day(s) {part!r} in {spec!r} (use mon..sun)")
        first, last = _WEEKDAYS.index(ends[0]), _WEEKDAYS.index(ends[-1])
        days.extend(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    h1, m1, h2, m2 = (int(match.group(i)) for i in range(2, 6))
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError(f"impossible time in {spec!r}")
    minutes = (h2 * 60 + m2) - (h1 * 60 + m1)
    if minutes <= 0:
        minutes += 24 * 60  # open past midnight
    return OpenWindow(tuple(sorted(set(days))), time(h1, m1), minutes)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the library, reported as ``<file>:<item id>: <why>``."""

    file: str
    item_id: str
    message: str
    severity: str = "error"  # "error" fails the check; "info" is reported only

    def __str__(self) -> str:
        prefix = "info: " if self.severity == "info" else ""
        return f"{self.file}:{self.item_id}: {prefix}{self.message}"


class ContentError(ValueError):
    """The content folder does not match the schema; ``problems`` names every file and item."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"invalid content library ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class EmergencyNumber:
    id: str
    name: str
    number: str  # display form, e.g. "70 201 201"
    tel: str  # dialable form, e.g. "+4570201201"
    when: str
    hours: str
    source: str
    approved_by: str
    approved_at: date | None
    review_by: date
    status: str
    file: str = ""
    # None: hours unknown to the bot (it then never calls the line open or closed).
    open_windows: tuple[OpenWindow, ...] | None = None

    @property
    def always_open(self) -> bool:
        return self.open_windows is not None and any(
            w.minutes >= 24 * 60 and len(w.days) == 7 for w in self.open_windows
        )

    def is_open(self, now: datetime) -> bool | None:
        """Whether the line is open at ``now`` (aware datetime); None when hours are unknown."""
        if self.open_windows is None:
            return None
        if self.always_open:
            return True
        moment = now.astimezone(DANISH_TIME)
        return any(window.spans(moment) for window in self.open_windows)

    def next_opening(self, now: datetime) -> datetime | None:
        """When a closed line opens next (Danish time), None if open, unknown or never."""
        if not self.open_windows or self.is_open(now):
            return None
        moment = now.astimezone(DANISH_TIME)
        starts = [
            datetime.combine(moment.date() + timedelta(days=ahead), window.opens, DANISH_TIME)
            for ahead in range(8)
            for window in self.open_windows
            if (moment.date() + timedelta(days=ahead)).weekday() in window.days
        ]
        upcoming = [start for start in starts if start > moment]
        return min(upcoming) if upcoming else None

    def opens_text(self, now: datetime) -> str | None:
        """Danish, e.g. "åbner kl. 11" or "åbner i morgen kl. 11"; None when open or unknown."""
        opening = self.next_opening(now)
        if opening is None:
            return None
        clock = f"{opening.hour}" if opening.minute == 0 else f"{opening:%H.%M}"
        days_ahead = (opening.date() - now.astimezone(DANISH_TIME).date()).days
        if days_ahead == 0:
            return f"åbner kl. {clock}"
        if days_ahead == 1:
            return f"åbner i morgen kl. {clock}"
        return f"åbner {_WEEKDAY_NAMES_DA[opening.weekday()]} kl. {clock}"


@dataclass(frozen=True)
class ContentItem:
    id: str
    theme: str
    kind: str
    intents: tuple[str, ...]
    bubbles: tuple[str, ...]
    source: str
    approved_by: str
    approved_at: date | None
    review_by: date
    status: str
    file: str = ""
    # (theme order, position in its file): the deterministic order items are offered in.
    rank: tuple[int, int] = (0, 0)
    # Danger kinds this item is guidance for ("general" fits every kind); empty for the rest.
    danger: tuple[str, ...] = ()
    # The follow-up this item answers (kind "followup" only).
    followup: str | None = None

    def number_ids(self) -> list[str]:
        """The emergency numbers the item names, in the order they appear."""
        return [n for bubble in self.bubbles for n in _PLACEHOLDER.findall(bubble)]


@dataclass(frozen=True)
class Theme:
    slug: str
    title: str
    order: int
    file: str


@dataclass
class ContentLibrary:
    themes: dict[str, Theme]
    items: tuple[ContentItem, ...]
    emergency_numbers: tuple[EmergencyNumber, ...]
    content_dir: Path
    _items_by_id: dict[str, ContentItem] = field(init=False, repr=False)
    _numbers_by_id: dict[str, EmergencyNumber] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.items = tuple(sorted(self.items, key=lambda item: item.rank))
        self._items_by_id = {item.id: item for item in self.items}
        self._numbers_by_id = {number.id: number for number in self.emergency_numbers}

    # --- look-ups -------------------------------------------------------------------------
    def get(self, item_id: str) -> ContentItem | None:
        """The item with this id, whatever its status (None if there is none)."""
        return self._items_by_id.get(item_id)

    def number(self, number_id: str) -> EmergencyNumber:
        """The emergency number with this id; KeyError names the unknown id."""
        try:
            return self._numbers_by_id[number_id]
        except KeyError:
            raise KeyError(f"unknown emergency number {number_id!r}") from None

    def sendable_numbers(self, today: date | None = None) -> tuple[EmergencyNumber, ...]:
        """Emergency numbers that are approved, complete and not past their review date."""
        today = today or date.today()
        return tuple(n for n in self.emergency_numbers if not number_problems(n, today))

    # --- what the bot may send ------------------------------------------------------------
    def is_sendable(self, item: ContentItem, today: date | None = None) -> bool:
        return not item_problems(item, self._numbers_by_id, today or date.today())

    def items_for(
        self,
        intent: str,
        kind: str,
        exclude_ids: Iterable[str] = (),
        today: date | None = None,
    ) -> list[ContentItem]:
        """Sendable items of this kind answering this intent, in deterministic order.

        The order takes one item from each theme in turn (themes by their `order`, items by their
        place in the file), so a young person who comes back to the same topic hears a different
        core message each time rather than four variations of the first one.
        """
        if intent not in KNOWN_INTENTS:
            raise ValueError(f"unknown intent {intent!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        today = today or date.today()
        matching = [
            item
            for item in self.items
            if item.kind == kind and intent in item.intents and self.is_sendable(item, today)
        ]
        # Rounds are counted before excluding given items, so the order never shifts mid-chat.
        turn: dict[str, int] = {}
        taken_per_theme: dict[str, int] = {}
        for item in matching:
            turn[item.id] = taken_per_theme.get(item.theme, 0)
            taken_per_theme[item.theme] = turn[item.id] + 1
        excluded = set(exclude_ids)
        ordered = sorted(matching, key=lambda item: (turn[item.id], item.rank))
        return [item for item in ordered if item.id not in excluded]

    def next_item(
        self,
        intent: str,
        kind: str,
        given_ids: Iterable[str] = (),
        today: date | None = None,
    ) -> ContentItem | None:
        """The first sendable item not given yet in this conversation; None once all were given.

        None is deliberate: a repeated topic never gets the same item again, so the caller offers
        a counsellor instead.
        """
        candidates = self.items_for(intent, kind, exclude_ids=given_ids, today=today)
        return candidates[0] if candidates else None

    def danger_item(
        self, danger: str, given_ids: Iterable[str] = (), today: date | None = None
    ) -> ContentItem | None:
        """The emergency guidance for this kind of danger: its own first, else the general one.

        A kind's first item is the first response; later items (if any) are for when the young
        person keeps writing about it. Once all were given the first is given again: guidance in
        danger is never withheld because it was said before.
        """
        for kind in (danger, "general"):
            items = [
                item
                for item in self.items
                if item.kind == "emergency"
                and kind in item.danger
                and self.is_sendable(item, today or date.today())
            ]
            if items:
                fresh = [item for item in items if item.id not in set(given_ids)]
                return (fresh or items)[0]
        return None

    def followup_item(
        self,
        followup: str,
        intent: str | None = None,
        danger: str | None = None,
        given_ids: Iterable[str] = (),
        today: date | None = None,
    ) -> ContentItem | None:
        """The answer to a follow-up in context: for the danger kind, else the general danger
        answer (in a danger conversation), else for the topic intent; None when nothing fits."""
        today = today or date.today()
        candidates = [
            item
            for item in self.items
            if item.kind == "followup"
            and item.followup == followup
            and self.is_sendable(item, today)
        ]
        tiers: list[list[ContentItem]] = []
        if danger:
            tiers.append([item for item in candidates if danger in item.danger])
            tiers.append([item for item in candidates if "general" in item.danger])
        if intent:
            topic = [item for item in candidates if intent in item.intents]
            # A topic's own answer before one that is also written for danger.
            tiers.append(sorted(topic, key=lambda item: bool(item.danger)))
        given = set(given_ids)
        for tier in tiers:
            if tier:
                fresh = [item for item in tier if item.id not in given]
                return (fresh or tier)[0]
        return None

    def render(
        self, item: ContentItem, now: datetime | None = None, carer: str | None = None
    ) -> list[str]:
        """The item's bubbles with every ``{number:<id>}`` filled from emergency_numbers.yml.

        Given ``now``, a line that is closed then is shown with when it opens ("70 201 201
        (åbner kl. 11)"); every item that names such a line also names one that is always open
        (checked by ``item_problems``). ``{carer}`` becomes the carer the young person named.
        """
        return [
            render_bubble(bubble, self._numbers_by_id, now=now, carer=carer)
            for bubble in item.bubbles
        ]


def carer_phrase(carer: str | None, default: str = DEFAULT_CARER) -> str:
    """ "din far" for the carer entity "far"; the default when none (or several) were named."""
    if not carer:
        return default
    carer = carer.strip().lower()
    if carer in {"forældre", "mine forældre"}:
        return "dine forældre"
    return carer if carer.startswith(("din ", "dine ")) else f"din {carer}"


def render_bubble(
    bubble: str,
    numbers: Mapping[str, EmergencyNumber],
    now: datetime | None = None,
    carer: str | None = None,
) -> str:
    def fill(match: re.Match[str]) -> str:
        number_id = match.group(1)
        if number_id not in numbers:
            raise KeyError(f"unknown emergency number placeholder {match.group(0)}")
        number = numbers[number_id]
        opens = number.opens_text(now) if now is not None else None
        return f"{number.number} ({opens})" if opens else number.number

    def fill_carer(match: re.Match[str]) -> str:
        return carer_phrase(carer, match.group(1) or DEFAULT_CARER)

    return _CARER_PLACEHOLDER.sub(fill_carer, _PLACEHOLDER.sub(fill, bubble))


# --- checks shared by the runtime and `make content-check` ------------------------------------
def placeholder_problems(bubble: str, numbers: Mapping[str, EmergencyNumber]) -> list[str]:
    problems = []
    for number_id in _PLACEHOLDER.findall(bubble):
        if number_id not in numbers:
            problems.append(f"unknown placeholder {{number:{number_id}}}")
    leftover = _CARER_PLACEHOLDER.sub("", _PLACEHOLDER.sub("", bubble))
    for stray in re.findall(r"\{[^{}]*\}?|\}", leftover):
        problems.append(f"unknown placeholder {stray!r} (use {{number:<id>}} or {{carer}})")
    return problems


def number_problems(number: EmergencyNumber, today: date) -> list[str]:
    problems = []
    if number.status != "approved":
        problems.append(f"status is {number.status!r}, not approved")
    for name in ("name", "number", "tel", "when", "hours", "source", "approved_by"):
        if not getattr(number, name).strip():
            problems.append(f"{name} is missing")
    if number.tel and not re.fullmatch(r"\+?[0-9]{3,15}", number.tel):
        problems.append(f"tel {number.tel!r} is not dialable (digits, optional leading +)")
    if number.tel and re.sub(r"\D", "", number.number) not in re.sub(r"\D", "", number.tel):
        problems.append(f"number {number.number!r} does not match tel {number.tel!r}")
    problems.extend(
        _approval_date_problems(number.status, number.approved_at, number.review_by, today)
    )
    return problems


def _item_kind_problems(item: ContentItem, numbers: Mapping[str, EmergencyNumber]) -> list[str]:
    problems = []
    unknown = [d for d in item.danger if d not in DANGER_KINDS]
    if unknown:
        problems.append(f"unknown danger kind(s): {', '.join(unknown)}")
    if item.kind == "emergency":
        if not item.danger:
            problems.append("an emergency item names the danger kind(s) it is guidance for")
        if item.bubbles and not _PLACEHOLDER.search(item.bubbles[0]):
            problems.append("an emergency item gives its number in the first bubble")
    elif item.danger and item.kind != "followup":
        problems.append("only emergency and followup items name a danger kind")
    if item.kind == "followup":
        if item.followup not in FOLLOWUPS:
            problems.append(f"followup must be one of {', '.join(FOLLOWUPS)}")
        if not item.danger and not item.intents:
            problems.append("a followup item answers in a danger kind or a topic")
    elif item.followup is not None:
        problems.append("only followup items name a followup")
    # A line with opening hours may be recommended only beside one that is always open.
    named = [numbers[n] for n in item.number_ids() if n in numbers]
    if any(not n.always_open for n in named) and not any(n.always_open for n in named):
        problems.append(
            "names a line that is not always open without naming one that is (112, 116 111 ...)"
        )
    for number in named:
        if number.open_windows is None:
            problems.append(f"names {number.id!r}, whose opening hours ('open') are not given")
    return problems


def item_problems(
    item: ContentItem, numbers: Mapping[str, EmergencyNumber], today: date
) -> list[str]:
    """Why this item must not be sent (empty when it may be sent)."""
    problems = []
    if item.status != "approved":
        problems.append(f"status is {item.status!r}, not approved")
    if not item.source.strip():
        problems.append("source is missing")
    if not item.approved_by.strip():
        problems.append("approved_by is missing")
    problems.extend(_approval_date_problems(item.status, item.approved_at, item.review_by, today))
    limit = MAX_BUBBLES_OF_KIND.get(item.kind, MAX_BUBBLES)
    if not item.bubbles:
        problems.append("has no bubbles")
    elif len(item.bubbles) > limit:
        problems.append(
            f"has {len(item.bubbles)} bubbles; a {item.kind} item may have at most {limit}"
        )
    for position, bubble in enumerate(item.bubbles, start=1):
        if not bubble.strip():
            problems.append(f"bubble {position} is empty")
            continue
        bubble_placeholders = placeholder_problems(bubble, numbers)
        problems.extend(f"bubble {position}: {p}" for p in bubble_placeholders)
        shown = bubble if bubble_placeholders else render_bubble(bubble, numbers)
        if len(shown) > MAX_BUBBLE_CHARS:
            problems.append(
                f"bubble {position} is {len(shown)} characters; a chat bubble may have at most "
                f"{MAX_BUBBLE_CHARS}"
            )
        for number_id in sorted(set(_PLACEHOLDER.findall(bubble))):
            if number_id in numbers and number_problems(numbers[number_id], today):
                problems.append(
                    f"bubble {position} uses emergency number {number_id!r}, which may not be sent"
                )
    problems.extend(_item_kind_problems(item, numbers))
    return problems


def _approval_date_problems(
    status: str, approved_at: date | None, review_by: date, today: date
) -> list[str]:
    problems = []
    if status == "approved" and approved_at is None:
        problems.append("approved_at is missing")
    if approved_at is not None and approved_at > today:
        problems.append(f"approved_at {approved_at.isoformat()} is in the future")
    if approved_at is not None and review_by <= approved_at:
        problems.append(
            f"review_by {review_by.isoformat()} is not after approved_at {approved_at.isoformat()}"
        )
    if review_by < today:
        problems.append(
            f"review_by {review_by.isoformat()} has passed (today is {today.isoformat()})"
        )
    return problems


# --- loading ----------------------------------------------------------------------------------
def load_library(content_dir: Path | None = None) -> ContentLibrary:
    """Load the library strictly: any schema error raises ContentError naming file and item."""
    library, problems = read_library(content_dir)
    if problems:
        raise ContentError(problems)
    return library


def read_library(content_dir: Path | None = None) -> tuple[ContentLibrary, list[Problem]]:
    """Load what parses and collect every schema problem instead of stopping at the first."""
    content_dir = Path(content_dir) if content_dir is not None else DEFAULT_CONTENT_DIR
    problems: list[Problem] = []
    if not content_dir.is_dir():
        problems.append(Problem(str(content_dir), "-", "content folder does not exist"))
        return ContentLibrary({}, (), (), content_dir), problems

    numbers_path = content_dir / NUMBERS_FILE
    numbers: list[EmergencyNumber] = []
    if numbers_path.is_file():
        numbers = _read_numbers(numbers_path, problems)
    else:
        problems.append(Problem(_display(numbers_path), "-", "emergency numbers file is missing"))

    themes: dict[str, Theme] = {}
    items: list[ContentItem] = []
    seen_ids: dict[str, str] = {n.id: _display(numbers_path) for n in numbers}
    theme_paths = sorted(p for p in content_dir.glob("*.y*ml") if p.name != NUMBERS_FILE)
    if not theme_paths:
        problems.append(Problem(_display(content_dir), "-", "no theme files (*.yml)"))
    for path in theme_paths:
        theme, theme_items = _read_theme(path, problems)
        if theme is None:
            continue
        if theme.slug in themes:
            problems.append(Problem(theme.file, "-", f"theme {theme.slug!r} is defined twice"))
            continue
        themes[theme.slug] = theme
        for item in theme_items:
            if item.id in seen_ids:
                problems.append(
                    Problem(item.file, item.id, f"id is not unique (also in {seen_ids[item.id]})")
                )
                continue
            seen_ids[item.id] = item.file
            items.append(item)
    orders: dict[int, str] = {}
    for theme in themes.values():
        if theme.order in orders:
            problems.append(
                Problem(
                    theme.file, "-", f"order {theme.order} is also used by {orders[theme.order]}"
                )
            )
        orders[theme.order] = theme.slug
    return ContentLibrary(themes, tuple(items), tuple(numbers), content_dir), problems


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_yaml(path: Path, problems: list[Problem]) -> Any:
    """The parsed file, or None after recording why it cannot be used."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        message = " ".join(f"not valid YAML: {error}".split())
        problems.append(Problem(_display(path), "-", message))
        return None
    if data is None:
        problems.append(Problem(_display(path), "-", "file is empty"))
    return data


def _read_numbers(path: Path, problems: list[Problem]) -> list[EmergencyNumber]:
    file = _display(path)
    data = _load_yaml(path, problems)
    if data is None:
        return []
    entries = data.get("numbers") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(file, "-", "expected a mapping with a non-empty list 'numbers'"))
        return []
    numbers = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        fields = _Fields(file, entry, index, _NUMBER_FIELDS, problems)
        if not fields.ok:
            continue
        number = EmergencyNumber(
            id=fields.slug("id"),
            name=fields.text("name"),
            number=fields.text("number"),
            tel=fields.text("tel"),
            when=fields.text("when"),
            hours=fields.text("hours"),
            source=fields.text("source", required=False),
            approved_by=fields.text("approved_by", required=False),
            approved_at=fields.day("approved_at", required=False),
            review_by=fields.day("review_by") or date.min,
            status=fields.status(),
            file=file,
            open_windows=fields.open_windows(),
        )
        if fields.failed:
            continue
        if number.id in seen:
            problems.append(Problem(file, number.id, "id is not unique"))
            continue
        seen.add(number.id)
        numbers.append(number)
    return numbers


def _read_theme(path: Path, problems: list[Problem]) -> tuple[Theme | None, list[ContentItem]]:
    file = _display(path)
    data = _load_yaml(path, problems)
    if data is None:
        return None, []
    if not isinstance(data, dict):
        problems.append(Problem(file, "-", "expected a mapping with theme, title, order and items"))
        return None, []
    unknown = sorted(set(data) - {"theme", "title", "order", "items"})
    if unknown:
        problems.append(Problem(file, "-", f"unknown top-level field(s): {', '.join(unknown)}"))
    slug = data.get("theme")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        problems.append(Problem(file, "-", "theme must be a lower-case slug"))
        return None, []
    if slug != path.stem:
        problems.append(
            Problem(file, "-", f"theme {slug!r} must match the file name {path.stem!r}")
        )
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(Problem(file, "-", "title (Danish) is missing"))
        title = ""
    order = data.get("order")
    if not isinstance(order, int) or isinstance(order, bool):
        problems.append(Problem(file, "-", "order must be an integer (it fixes the offer order)"))
        order = 0
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(Problem(file, "-", "items must be a non-empty list"))
        raw_items = []
    theme = Theme(slug=slug, title=title.strip(), order=order, file=file)
    items = []
    for index, entry in enumerate(raw_items, start=1):
        fields = _Fields(file, entry, index, _ITEM_FIELDS, problems)
        if not fields.ok:
            continue
        kind = fields.choice("kind", KINDS)
        item = ContentItem(
            id=fields.slug("id"),
            theme=slug,
            kind=kind,
            intents=fields.intents(),
            bubbles=fields.bubbles(),
            source=fields.text("source", required=False),
            approved_by=fields.text("approved_by", required=False),
            approved_at=fields.day("approved_at", required=False),
            review_by=fields.day("review_by") or date.min,
            status=fields.status(),
            file=file,
            rank=(order, index),
            danger=fields.names("danger"),
            followup=fields.text("followup", required=False) or None,
        )
        if not fields.failed:
            items.append(item)
    return theme, items


class _Fields:
    """Typed access to one YAML entry that records a Problem for every schema error."""

    def __init__(
        self,
        file: str,
        entry: Any,
        index: int,
        allowed: frozenset[str],
        problems: list[Problem],
    ):
        self.file = file
        self.problems = problems
        self.failed = False
        self.ok = isinstance(entry, dict)
        self.entry: dict[str, Any] = entry if isinstance(entry, dict) else {}
        raw_id = self.entry.get("id")
        self.item_id = raw_id if isinstance(raw_id, str) and raw_id else f"#{index}"
        if not self.ok:
            self._fail(f"entry #{index} must be a mapping")
            return
        unknown = sorted(set(self.entry) - allowed)
        if unknown:
            self._fail(f"unknown field(s): {', '.join(unknown)}")
        missing = sorted(
            name for name in allowed if name not in self.entry and name not in _OPTIONAL_FIELDS
        )
        if missing:
            self._fail(f"missing field(s): {', '.join(missing)}")

    def _fail(self, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.file, self.item_id, message))

    def text(self, name: str, required: bool = True) -> str:
        value = self.entry.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            if name in self.entry or required:
                self._fail(f"{name} must be a non-empty string")
            return ""
        return value.strip()

    def slug(self, name: str) -> str:
        value = self.text(name)
        if value and not _SLUG.match(value):
            self._fail(f"{name} {value!r} must be a lower-case slug (a-z, 0-9, _)")
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name)
        if value and value not in allowed:
            self._fail(f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value

    def status(self) -> str:
        return self.choice("status", STATUSES)

    def day(self, name: str, required: bool = True) -> date | None:
        value = self.entry.get(name)
        if value is None:
            if required:
                self._fail(f"{name} is missing")
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self._fail(f"{name} must be a date (YYYY-MM-DD), got {value!r}")
        return None

    def names(self, name: str) -> tuple[str, ...]:
        value = self.entry.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._fail(f"{name} must be a list of names")
            return ()
        return tuple(value)

    def open_windows(self) -> tuple[OpenWindow, ...] | None:
        value = self.entry.get("open")
        if value is None:
            self._fail(
                "open (opening hours) is missing: 'always', a list like "
                "['mon-sun 11:00-05:00'], or 'unknown'"
            )
            return None
        if value == "unknown":
            return None
        if value == "always":
            return (OpenWindow(tuple(range(7)), time(0, 0), 24 * 60),)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self._fail("open must be 'always' or a list like ['mon-sun 11:00-05:00']")
            return None
        try:
            return tuple(parse_open_window(v) for v in value)
        except ValueError as error:
            self._fail(str(error))
            return None

    def intents(self) -> tuple[str, ...]:
        value = self.entry.get("intents")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self._fail("intents must be a non-empty list of intent names")
            return ()
        unknown = [v for v in value if v not in KNOWN_INTENTS]
        if unknown:
            self._fail(
                f"unknown intent(s): {', '.join(unknown)} "
                "(see the intent table in docs/architecture.md)"
            )
        if len(set(value)) != len(value):
            self._fail("intents lists an intent twice")
        return tuple(value)

    def bubbles(self) -> tuple[str, ...]:
        value = self.entry.get("bubbles")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._fail("bubbles must be a list of strings")
            return ()
        # Bubble count, emptiness and length are policy, checked by item_problems, so the check
        # can report them with the item id rather than refusing to load.
        return tuple(" ".join(v.split()) for v in value)
