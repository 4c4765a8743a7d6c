"""The service's Danish texts, with emergency numbers filled in from the content library."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.content_library import ContentLibrary, load_library, render_bubble


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


def emergency_numbers() -> list[dict[str, str]]:
    """The approved numbers, for the always-visible emergency panel of the chat page."""
    return [
        {
            "id": n.id,
            "name": n.name,
            "number": n.number,
            "tel": n.tel,
            "when": n.when,
            "hours": n.hours,
        }
        for n in content_library().sendable_numbers()
    ]
