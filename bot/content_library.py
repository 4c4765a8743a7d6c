"""The validated psychoeducation library: loads bot/content/*.yml and decides what may be sent.

Pure Python (stdlib + PyYAML) so that both the Rasa action server (Python 3.10) and the handoff
service (Python 3.11+) can import it. The bot may only send items that pass every check in
``item_problems``: approved, sourced, not past their review date, chat-sized, with every
emergency-number placeholder resolving to an approved number. ``bot.content_check`` runs the same
checks over the whole library and fails CI on any problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent / "content"
NUMBERS_FILE = "emergency_numbers.yml"

# The intent taxonomy of DESIGN.md; content may answer these and nothing else.
KNOWN_INTENTS: frozenset[str] = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "request_human",
        "ask_opening_hours",
        "ask_wait_time",
        "ask_anonymity",
        "parent_alcohol",
        "parent_drugs",
        "own_substance_use",
        "feeling_guilt",
        "feeling_sad",
        "feeling_anxious",
        "conflict_home",
        "violence",
        "self_harm",
        "suicidal",
        "immediate_danger",
        "out_of_scope",
    }
)
# Every topic intent is answered "validate, then one psychoeducation item, then offer more"; two
# psychoeducation items at least, so that a repeated topic never gets the same item twice.
TOPIC_INTENTS: tuple[str, ...] = (
    "parent_alcohol",
    "parent_drugs",
    "own_substance_use",
    "feeling_guilt",
    "feeling_sad",
    "feeling_anxious",
    "conflict_home",
    "violence",
)
MIN_PSYCHOEDUCATION_PER_TOPIC = 2
CRITICAL_INTENTS: tuple[str, ...] = ("self_harm", "suicidal", "immediate_danger")
# Intents that must have an approved info item, and what the item is about.
INFO_INTENTS: Mapping[str, str] = {
    "ask_anonymity": "anonymity, tavshedspligt and skærpet underretningspligt",
    "request_human": "what happens when you talk to a counsellor",
}

KINDS: tuple[str, ...] = ("validation", "psychoeducation", "emergency", "info")
STATUSES: tuple[str, ...] = ("draft", "approved")
MAX_BUBBLES = 3
MAX_VALIDATION_BUBBLES = 1
MAX_BUBBLE_CHARS = 300

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
    }
)
_NUMBER_FIELDS = frozenset(
    {
        "id",
        "name",
        "number",
        "tel",
        "when",
        "hours",
        "source",
        "approved_by",
        "approved_at",
        "review_by",
        "status",
    }
)


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

    def render(self, item: ContentItem) -> list[str]:
        """The item's bubbles with every ``{number:<id>}`` filled from emergency_numbers.yml."""
        return [render_bubble(bubble, self._numbers_by_id) for bubble in item.bubbles]


def render_bubble(bubble: str, numbers: Mapping[str, EmergencyNumber]) -> str:
    def fill(match: re.Match[str]) -> str:
        number_id = match.group(1)
        if number_id not in numbers:
            raise KeyError(f"unknown emergency number placeholder {match.group(0)}")
        return numbers[number_id].number

    return _PLACEHOLDER.sub(fill, bubble)


# --- checks shared by the runtime and `make content-check` ------------------------------------
def placeholder_problems(bubble: str, numbers: Mapping[str, EmergencyNumber]) -> list[str]:
    problems = []
    for number_id in _PLACEHOLDER.findall(bubble):
        if number_id not in numbers:
            problems.append(f"unknown placeholder {{number:{number_id}}}")
    leftover = _PLACEHOLDER.sub("", bubble)
    for stray in re.findall(r"\{[^{}]*\}?|\}", leftover):
        problems.append(f"unknown placeholder {stray!r} (use {{number:<id>}})")
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
    limit = MAX_VALIDATION_BUBBLES if item.kind == "validation" else MAX_BUBBLES
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
            name
            for name in allowed
            if name not in self.entry and name not in {"source", "approved_by", "approved_at"}
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

    def intents(self) -> tuple[str, ...]:
        value = self.entry.get("intents")
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self._fail("intents must be a non-empty list of intent names")
            return ()
        unknown = [v for v in value if v not in KNOWN_INTENTS]
        if unknown:
            self._fail(
                f"unknown intent(s): {', '.join(unknown)} (see the intent table in DESIGN.md)"
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
