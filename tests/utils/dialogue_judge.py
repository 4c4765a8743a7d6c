"""Judges a bot reply by what it is made of: every bubble is traced back to the approved content
item or the domain response it came from, so a test can ask whether a turn was answered in the
context the young person was in (the danger kind, the follow-up, the topic) without copying the
bot's wording into the test, and can prove that nothing was said outside the approved texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from triage_core.content_library import ContentItem, ContentLibrary, load_library

ROOT = Path(__file__).resolve().parents[2]
_NUMBER = re.compile(r"\{number:([a-z0-9_]+)\}")
_CARER = re.compile(r"\{carer(?::[^{}]+)?\}")
_SLOT = re.compile(r"\{[a-z_]+\}")
BARE_FALLBACK = "utter_fallback"
# Kinds whose guidance must never appear where another kind's danger is: leaving or locking
# oneself in is wrong beside an unconscious person or after an overdose.
INCOMPATIBLE = {
    "unconscious": {"violence_now", "weapon", "locked_out", "followed"},
    "overdose": {"violence_now", "weapon", "locked_out", "followed"},
    "bleeding": {"violence_now", "weapon", "locked_out", "followed", "drunk_driving"},
}


@dataclass(frozen=True)
class Source:
    """Where a bubble came from: a content item, a domain response or a service text."""

    kind: str  # "item", "response" or "service"
    name: str
    item: ContentItem | None = None


@dataclass
class Judge:
    library: ContentLibrary = field(default_factory=load_library)

    def _pattern(self, template: str) -> re.Pattern[str]:
        out, last = [], 0
        marks = sorted(
            [(m.start(), m.end(), "number", m.group(1)) for m in _NUMBER.finditer(template)]
            + [(m.start(), m.end(), "carer", "") for m in _CARER.finditer(template)]
            + [
                (m.start(), m.end(), "slot", "")
                for m in _SLOT.finditer(template)
                if not template[m.start() :].startswith(("{number:", "{carer"))
            ]
        )
        for start, end, kind, value in marks:
            out.append(re.escape(template[last:start]))
            if kind == "number":
                number = re.escape(self.library.number(value).number)
                out.append(f"{number}(?: \\([^)]*\\))?")
            else:
                out.append(".+?")
            last = end
        out.append(re.escape(template[last:]))
        return re.compile("".join(out))

    @cached_property
    def _sources(self) -> list[tuple[re.Pattern[str], Source]]:
        sources: list[tuple[re.Pattern[str], Source]] = []
        for item in self.library.items:
            for bubble in item.bubbles:
                sources.append((self._pattern(bubble), Source("item", item.id, item)))
        domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
        for name, variants in (domain.get("responses") or {}).items():
            for variant in variants:
                text = " ".join(str(variant.get("text", "")).split())
                sources.append((self._pattern(text), Source("response", name)))
        texts = yaml.safe_load(
            (ROOT / "handoff_service" / "texts_da.yml").read_text(encoding="utf-8")
        )
        for name, value in texts.items():
            for text in value if isinstance(value, list) else []:
                sources.append((self._pattern(" ".join(text.split())), Source("service", name)))
        return sources

    def source(self, bubble: str) -> Source | None:
        text = " ".join(bubble.split())
        for pattern, source in self._sources:
            if pattern.fullmatch(text):
                return source
        return None

    def sources(self, bubbles: list[str]) -> list[Source | None]:
        return [self.source(bubble) for bubble in bubbles]


def items_of(sources: list[Source | None]) -> list[ContentItem]:
    seen: list[ContentItem] = []
    for source in sources:
        if source and source.item is not None and source.item not in seen:
            seen.append(source.item)
    return seen


def responses_of(sources: list[Source | None]) -> list[str]:
    return [s.name for s in sources if s and s.kind in ("response", "service")]


SERVICE_RESPONSES = {
    "request_human": ("utter_queue_", "utter_crisis_queue_", "utter_already_queued", "queued_by"),
    "ask_wait_time": ("utter_queue_", "utter_crisis_queue_", "utter_wait_time_", "utter_already"),
    # Asked while queued, the place in the queue and the next shift answer it.
    "ask_opening_hours": ("utter_opening_hours_", "utter_queue_", "utter_crisis_queue_"),
    "ask_anonymity": (),
}
CONTROL_RESPONSES = {
    "greet": ("utter_greet",),
    "thank": ("utter_thank",),
    "goodbye": ("utter_goodbye",),
}


def in_context(turn: dict, danger: str | None, sources: list[Source | None]) -> bool:
    """Whether the reply answers what the young person did, where the conversation was."""
    items = items_of(sources)
    names = responses_of(sources)
    act = turn["act"]
    if act == "danger":
        kind = turn.get("danger") or danger
        return any(i.kind == "emergency" and kind in i.danger for i in items) or (
            kind in ("suicidal", "self_harm")
            and any(
                i.kind == "emergency"
                and set(i.danger) & {"suicidal", "self_harm", "bleeding", "overdose"}
                for i in items
            )
        )
    if act == "followup":
        wanted = turn["followup"]
        if any(i.kind == "followup" and i.followup == wanted for i in items):
            return True
        # The anonymity texts answer "will you tell the kommune" and "what if I say where I live".
        if wanted in ("will_you_report", "location") and any(
            "ask_anonymity" in i.intents for i in items
        ):
            return True
        # In danger, the kind's own guidance answers "what do I do now".
        return wanted == "what_to_do" and any(
            i.kind == "emergency" and danger in i.danger for i in items
        )
    if act == "safe_now":
        return any(i.followup == "safe_now" for i in items) or "utter_glad_you_are_ok" in names
    if act == "taking_back":
        return any(i.followup == "taking_back" for i in items)
    if act == "topic":
        topic = turn["topic"]
        return any(topic in i.intents for i in items) or (
            topic in ("violence", "feeling_anxious") and "utter_ask_safe" in names
        )
    if act == "service":
        service = turn["service"]
        if service == "ask_anonymity":
            return any(
                "ask_anonymity" in i.intents or i.followup in ("will_you_report", "location")
                for i in items
            )
        return any(n.startswith(SERVICE_RESPONSES[service]) for n in names)
    if act == "control":
        control = turn["control"]
        if control in CONTROL_RESPONSES:
            return any(n.startswith(CONTROL_RESPONSES[control]) for n in names)
        return BARE_FALLBACK not in names and bool(sources)
    raise ValueError(f"unknown act {act!r}")


def wrong_kind(danger: str | None, sources: list[Source | None]) -> list[str]:
    """Guidance for an incompatible kind of danger in this reply (never acceptable)."""
    bad = INCOMPATIBLE.get(danger or "", set())
    return [i.id for i in items_of(sources) if i.kind == "emergency" and set(i.danger) & bad]
