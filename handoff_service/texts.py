"""The service's Danish texts, with emergency numbers filled in from the content library."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from triage_core.content_library import ContentLibrary, load_library, render_bubble


@lru_cache
def content_library() -> ContentLibrary:
    return load_library()


def _fill(value: Any, library: ContentLibrary) -> Any:
    numbers = {number.id: number for number in library.emergency_numbers}
    if isinstance(value, str):
        return render_bubble(value, numbers)
    if isinstance(value, list):
        return [_fill(item, library) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, library) for key, item in value.items()}
    return value


@lru_cache
def load_texts(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return _fill(yaml.safe_load(handle), content_library())


@lru_cache
def load_duty_to_report(path: Path) -> dict[str, Any]:
    """The counsellor's guidance on skærpet underretningspligt (duty_to_report_da.yml)."""
    with path.open(encoding="utf-8") as handle:
        guidance = _fill(yaml.safe_load(handle), content_library())
    missing = {"title", "summary", "steps", "sources"} - guidance.keys()
    if missing:
        raise ValueError(f"{path.name} lacks {sorted(missing)}")
    return guidance


def _open_state(number: Any, now: datetime) -> tuple[bool | None, str | None]:
    """Open now, and when it opens if not: None, None while the library has no opening hours.

    The content library computes both from each line's structured hours (Danish time); a line
    whose hours it does not know is neither called open nor closed.
    """
    is_open = getattr(number, "is_open", None)
    opens_text = getattr(number, "opens_text", None)
    open_now = is_open(now) if callable(is_open) else None
    if open_now is None:
        return None, None
    return bool(open_now), (None if open_now or not callable(opens_text) else opens_text(now))


def emergency_numbers(now: datetime | None = None) -> list[dict[str, Any]]:
    """The approved numbers, for the emergency panel of the chat page, with open-now state."""
    now = now or datetime.now(UTC)
    numbers = []
    for n in content_library().sendable_numbers(now.date()):
        open_now, opens_text = _open_state(n, now)
        numbers.append(
            {
                "id": n.id,
                "name": n.name,
                "number": n.number,
                "tel": n.tel,
                "when": n.when,
                "hours": n.hours,
                "open_now": open_now,
                "opens_text": opens_text,
            }
        )
    return numbers
