"""The emergency panel's numbers: every approved line, with whether it is open now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from handoff_service.texts import _open_state, content_library, emergency_numbers

NIGHT = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 07.30 in Copenhagen


@dataclass
class LineWithoutHours:
    id: str = "x"


@dataclass
class LineWithHours:
    opens_at: int = 11

    def is_open(self, now: datetime) -> bool:
        return now.hour >= self.opens_at

    def opens_text(self, now: datetime) -> str | None:
        return None if self.is_open(now) else f"åbner kl. {self.opens_at}"


def test_every_approved_number_is_listed_with_its_hours(client: TestClient):
    listed = client.get("/api/v1/emergency-numbers").json()
    approved = content_library().sendable_numbers()
    assert [n["id"] for n in listed] == [n.id for n in approved]
    assert {"112", "boernetelefonen"} <= {n["id"] for n in listed}
    for number in listed:
        assert {"id", "name", "number", "tel", "when", "hours", "open_now", "opens_text"} <= set(
            number
        )
        assert number["open_now"] in (True, False, None)
        if number["open_now"] is not False:
            assert number["opens_text"] is None


def test_open_state_comes_from_the_content_library_when_it_knows_the_hours():
    assert _open_state(LineWithoutHours(), NIGHT) == (None, None)
    assert _open_state(LineWithHours(opens_at=11), NIGHT) == (False, "åbner kl. 11")
    assert _open_state(LineWithHours(opens_at=5), NIGHT) == (True, None)


def test_lines_open_day_and_night_are_open_at_any_hour():
    library = content_library()
    if not callable(getattr(library.emergency_numbers[0], "is_open", None)):
        return  # opening hours not in the content library yet: nothing is called open or closed
    for now in (NIGHT, datetime(2026, 12, 1, 14, 0, tzinfo=UTC)):
        numbers = {n["id"]: n for n in emergency_numbers(now)}
        for always in ("112", "boernetelefonen"):
            assert numbers[always]["open_now"] is True, numbers[always]
