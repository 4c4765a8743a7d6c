"""Recognises what a young person does in a turn besides naming a topic (bot/context_cues.yml).

Follow-up questions ("hvad skal jeg gøre nu", "er det farligt"), answers to the safety question
("jeg er i sikkerhed nu") and taking a message back ("det var for sjov") are answered in the
context of the conversation, so the intent classifier (whose taxonomy is fixed) need not know
them. Pure Python on the risk lexicon's pattern engine, so the same syntax and spelling
tolerance apply, and both the action server and tests can use it without Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from re import Pattern
from typing import Any

import yaml

from triage_core.content_library import FOLLOWUPS
from triage_core.lexicon import RiskLexicon, _compile_pattern, normalise
from triage_core.taxonomy import DANGER_KINDS

DEFAULT_CUES_PATH = Path(__file__).resolve().parent / "context_cues.yml"
# Cues recognised in text (not_understood and reminder are the bot's own, never a young person's).
RECOGNISED: tuple[str, ...] = tuple(f for f in FOLLOWUPS if f not in ("not_understood", "reminder"))


class ContextCueError(ValueError):
    """The cue file is malformed (unknown cue, bad pattern ...)."""


@dataclass(frozen=True)
class Cue:
    cue_id: str
    patterns: tuple[Pattern[str], ...]
    unless: tuple[Pattern[str], ...]
    escalates: bool = True  # danger hints only: may make a home topic told now a danger

    def fires(self, normalised: str) -> bool:
        blocked = [u.span() for p in self.unless for u in p.finditer(normalised)]
        for pattern in self.patterns:
            for hit in pattern.finditer(normalised):
                start, end = hit.span()
                if end > start and not any(b0 < end and start < b1 for b0, b1 in blocked):
                    return True
        return False


class ContextCues:
    """The cues of bot/context_cues.yml, tried in file order; see :meth:`match`."""

    def __init__(
        self,
        cues: tuple[Cue, ...],
        hints: tuple[Cue, ...] = (),
        now: Cue | None = None,
        past: Cue | None = None,
        drink: Cue | None = None,
    ) -> None:
        self.cues = cues
        self.hints = hints
        self.now = now
        self.past = past
        self.drink = drink

    @classmethod
    def from_yaml(cls, path: Path | None = None) -> ContextCues:
        path = path or DEFAULT_CUES_PATH
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(yaml.safe_load(handle), source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<cues>") -> ContextCues:
        if not isinstance(data, dict) or not isinstance(data.get("cues"), list):
            raise ContextCueError(f"{source}: expected a mapping with a 'cues' list")
        macros, _needs = RiskLexicon._compile_macros(data.get("macros") or {}, source)
        cues = []
        for raw in data["cues"]:
            cue_id = raw.get("id") if isinstance(raw, dict) else None
            if cue_id not in RECOGNISED:
                raise ContextCueError(
                    f"{source}: cue id must be one of {RECOGNISED}, got {cue_id!r}"
                )
            where = f"{source}: cue {cue_id}"
            patterns = tuple(
                _compile_pattern(p, "phrase", macros, where) for p in raw.get("patterns") or []
            )
            if not patterns:
                raise ContextCueError(f"{where}: no patterns")
            unless = tuple(
                _compile_pattern(p, "phrase", macros, where) for p in raw.get("unless") or []
            )
            cues.append(Cue(cue_id, patterns, unless))
        hints = []
        for raw in data.get("danger_hints") or []:
            kind = raw.get("kind") if isinstance(raw, dict) else None
            if kind not in DANGER_KINDS:
                raise ContextCueError(f"{source}: hint kind must be one of {DANGER_KINDS}")
            where = f"{source}: danger hint {kind}"
            patterns = tuple(
                _compile_pattern(p, "phrase", macros, where) for p in raw.get("patterns") or []
            )
            hints.append(Cue(kind, patterns, (), escalates=raw.get("escalates", True) is True))

        def markers(name: str) -> Cue | None:
            raw_markers = data.get(name)
            if not raw_markers:
                return None
            return Cue(
                name,
                tuple(
                    _compile_pattern(p, "phrase", macros, source) for p in raw_markers["patterns"]
                ),
                tuple(
                    _compile_pattern(p, "phrase", macros, source)
                    for p in raw_markers.get("unless") or []
                ),
            )

        return cls(
            tuple(cues),
            tuple(hints),
            markers("now_markers"),
            markers("past_markers"),
            markers("drink_markers"),
        )

    def danger_hint(self, text: str) -> str | None:
        """The kind of danger a message judged critical is most likely about (None: unclear).

        Broad on purpose: a hint never raises risk, it only picks which kind's guidance fits.
        """
        hint = self._first_hint(text)
        return hint.cue_id if hint else None

    def escalating_hint(self, text: str) -> str | None:
        """The kind, when the words are strong enough to make a home topic told now a danger."""
        hint = self._first_hint(text, escalating=True)
        return hint.cue_id if hint else None

    def _first_hint(self, text: str, escalating: bool = False) -> Cue | None:
        normalised = normalise(text or "")
        for hint in self.hints:
            if escalating and not hint.escalates:
                continue
            if normalised and hint.fires(normalised + " "):
                return hint
        return None

    def says_now(self, text: str) -> bool:
        """Whether the message places what it tells in the present ("lige nu", "i nat")."""
        normalised = normalise(text or "")
        return bool(self.now and normalised and self.now.fires(normalised))

    def names_drink(self, text: str) -> bool:
        """Whether the message names drink or drugs ("har drukket", "stiv", "piller")."""
        normalised = normalise(text or "")
        return bool(self.drink and normalised and self.drink.fires(normalised))

    def says_past(self, text: str) -> bool:
        """Whether the message tells something as past or habit ("i går", "plejer")."""
        normalised = normalise(text or "")
        return bool(self.past and normalised and self.past.fires(normalised))

    def match(self, text: str) -> str | None:
        """The first cue (in file order) that fires on ``text``, or None."""
        normalised = normalise(text or "")
        if not normalised:
            return None
        for cue in self.cues:
            if cue.fires(normalised):
                return cue.cue_id
        return None


@lru_cache(maxsize=2)
def load_cues(path: str | None = None) -> ContextCues:
    return ContextCues.from_yaml(Path(path) if path else None)
