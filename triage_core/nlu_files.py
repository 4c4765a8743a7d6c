"""Adding examples to the Rasa NLU files of data/nlu by editing their text (issue #14, `make
export-labels`, docs/trainer.md). Pure Python and PyYAML, no service or Rasa imports, so both
environments can use it (tests/bot/test_label_export_rasa.py reads the result with Rasa's reader).

The files are never run through a YAML dumper: their comments, order and layout stay byte for
byte. New examples of an intent go into a block of their own, right after the block that holds
most of the intent's examples (after earlier export blocks that follow it), under a comment:

    # exported from the trainer's inbox 2026-12-01
    - intent: feeling_sad
      examples: |
        - jeg er bare så ked af det hele tiden

Why not at the end of the existing ``examples: |`` literal: a line there is part of the string,
so a ``# comment`` in it would be an example to Rasa (skipped with a warning), and YAML allows no
comment inside a block scalar. A second block of the same intent is ordinary Rasa YAML.

Texts are written as one line with single spaces (a literal line cannot hold a newline). A
bracket that Rasa would read as an entity annotation (``[NAVN](...)``, ``[NAVN]{...}``,
``[NAVN][...]``: :data:`ENTITY_REGEX`, the same pattern as Rasa's entities parser) gets a space
after its ``]``, so it stays text; a bare ``[NAVN]`` is left as it is.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

# rasa/shared/nlu/training_data/entities_parser.py (Rasa 3.6); tests/bot checks they agree.
ENTITY_REGEX = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)
# Characters YAML (PyYAML's reader) refuses in a stream.
NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
INTENT_LINE = re.compile(r"^- intent: *([A-Za-z0-9_]+) *$")
EXAMPLES_LINE = re.compile(r"^  examples: *\| *$")
EXAMPLE_INDENT = "    "
MAX_CHARS = 2000


def strip_entities(text: str) -> str:
    """The text Rasa trains on: ``[mor](carer)`` → ``mor``."""
    return ENTITY_REGEX.sub(lambda match: match.group("entity_text"), text)


def normal(text: str) -> str:
    """What counts as the same example: entity annotations stripped, case and spacing ignored."""
    return re.sub(r"\s+", " ", strip_entities(text).casefold()).strip()


def example_text(text: str) -> tuple[str | None, str | None, bool]:
    """(the text as one example line, refusal reason, adjusted).

    One line with single spaces; a bracket Rasa would read as an entity gets a space after its
    ``]``. Refused: empty, too long, or characters YAML cannot hold."""
    line = re.sub(r"\s+", " ", text).strip()
    if not line:
        return None, "empty", False
    if len(line) > MAX_CHARS:
        return None, "too_long", False
    if NON_PRINTABLE.search(line):
        return None, "unprintable", False
    adjusted = False
    while True:
        match = ENTITY_REGEX.search(line)
        if match is None:
            break
        end = match.end("entity_text") + 1  # just after the entity text's "]"
        line = line[:end] + " " + line[end:]
        adjusted = True
    return line, None, adjusted


@dataclass
class Block:
    """One ``- intent:`` item of a file, found by reading its lines."""

    intent: str
    start: int  # line index of "- intent: …"
    end: int  # line index just after its last example line
    examples: list[str]


class LayoutError(ValueError):
    """A file whose layout the line reader does not understand: nothing is written to it."""


def _examples(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [line[2:].strip() for line in value.splitlines() if line.startswith("- ")]


def yaml_intents(text: str) -> list[tuple[str, list[str]]]:
    """(intent, examples) of each intent item, as YAML reads the file."""
    data = yaml.safe_load(text)
    items = (data.get("nlu") or []) if isinstance(data, dict) else []
    return [
        (str(item["intent"]), _examples(item.get("examples")))
        for item in items
        if isinstance(item, dict) and "intent" in item
    ]


def read_blocks(text: str) -> list[Block]:
    """The intent blocks of a file from its lines; checked against what YAML reads."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = INTENT_LINE.match(lines[index])
        if match is None:
            index += 1
            continue
        start = index
        index += 1
        if index >= len(lines) or not EXAMPLES_LINE.match(lines[index]):
            raise LayoutError(f"line {start + 1}: '- intent:' not followed by '  examples: |'")
        index += 1
        examples: list[str] = []
        end = index
        while index < len(lines) and (
            lines[index].startswith(EXAMPLE_INDENT) or not lines[index].strip()
        ):
            stripped = lines[index].strip()
            if stripped:
                examples.append(stripped[2:].strip() if stripped.startswith("- ") else "")
                end = index + 1
            index += 1
        blocks.append(Block(match.group(1), start, end, [e for e in examples if e]))
    read = [(block.intent, block.examples) for block in blocks]
    if read != yaml_intents(text):
        raise LayoutError("the lines and YAML disagree about the intent blocks")
    return blocks


def export_block(intent: str, lines: Sequence[str], day: str) -> list[str]:
    return [
        "",
        f"# exported from the trainer's inbox {day}",
        f"- intent: {intent}",
        "  examples: |",
        *(f"{EXAMPLE_INDENT}- {line}" for line in lines),
    ]


@dataclass
class Item:
    id: int
    text: str
    label: str


@dataclass
class Plan:
    """What an export does: per intent the file and the lines; the rest reported."""

    written: dict[str, tuple[str, list[Item], list[str]]] = field(default_factory=dict)
    duplicates: list[int] = field(default_factory=list)
    conflicts: list[tuple[int, str, list[str]]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    adjusted: list[int] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> new text


def target_file(intent: str, blocks: Mapping[str, list[Block]]) -> str | None:
    """The file holding most of the intent's examples (the first by name on a tie)."""
    counts = {
        name: sum(len(b.examples) for b in file_blocks if b.intent == intent)
        for name, file_blocks in sorted(blocks.items())
    }
    best = max(counts.values(), default=0)
    if best == 0:
        return None
    return next(name for name, count in counts.items() if count == best)


def insert_after(intent: str, blocks: list[Block]) -> int:
    """Line index after the intent's biggest block and the same-intent blocks that follow it."""
    biggest = max(
        (i for i, b in enumerate(blocks) if b.intent == intent),
        key=lambda i: (len(blocks[i].examples), -i),
    )
    last = biggest
    while last + 1 < len(blocks) and blocks[last + 1].intent == intent:
        last += 1
    return blocks[last].end


def add_examples(text: str, additions: Mapping[str, Sequence[str]], day: str) -> str:
    """`text` with an export block per intent; every other byte unchanged (checked)."""
    blocks = read_blocks(text)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    positions = sorted(
        ((insert_after(intent, blocks), intent) for intent in additions if additions[intent]),
        reverse=True,
    )
    for position, intent in positions:
        new = [line + "\n" for line in export_block(intent, additions[intent], day)]
        lines[position:position] = new
    result = "".join(lines)
    check_only_added(text, result, additions)
    return result


def check_only_added(old: str, new: str, additions: Mapping[str, Sequence[str]]) -> None:
    """The new text parses, holds the old examples plus the added ones, and only adds lines."""
    ops = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    if any(op[0] not in ("equal", "insert") for op in ops.get_opcodes()):
        raise LayoutError("the edit changed existing lines")
    before: dict[str, list[str]] = {}
    for intent, examples in yaml_intents(old):
        before.setdefault(intent, []).extend(examples)
    after: dict[str, list[str]] = {}
    for intent, examples in yaml_intents(new):
        after.setdefault(intent, []).extend(examples)
    for intent in set(before) | set(after):
        expected = before.get(intent, []) + list(additions.get(intent, []))
        if sorted(after.get(intent, [])) != sorted(expected):
            raise LayoutError(f"{intent}: the examples after the edit are not the ones expected")


def plan_export(
    files: Mapping[str, str], items: Sequence[Item], intents: Sequence[str], day: str
) -> Plan:
    """Which items go where. `files`: name -> text of each data/nlu file; `intents`: the valid
    labels. Duplicates (same normal text, same intent) are skipped; the same text under another
    intent is a conflict and not written."""
    plan = Plan()
    blocks = {name: read_blocks(text) for name, text in files.items()}
    seen: dict[str, set[str]] = {}
    for file_blocks in blocks.values():
        for block in file_blocks:
            for example in block.examples:
                seen.setdefault(normal(example), set()).add(block.intent)
    chosen: dict[str, list[tuple[Item, str]]] = {}
    for item in sorted(items, key=lambda i: i.id):
        if item.label not in intents:
            plan.refused.append((item.id, "unknown_intent"))
            continue
        line, refusal, adjusted = example_text(item.text)
        if line is None:
            plan.refused.append((item.id, refusal or "refused"))
            continue
        key = normal(line)
        known = seen.get(key, set())
        if known - {item.label}:
            plan.conflicts.append((item.id, item.label, sorted(known - {item.label})))
            continue
        if item.label in known:
            plan.duplicates.append(item.id)
            continue
        target = target_file(item.label, blocks)
        if target is None:
            plan.refused.append((item.id, "no_block_for_intent"))
            continue
        if adjusted:
            plan.adjusted.append(item.id)
        seen.setdefault(key, set()).add(item.label)
        chosen.setdefault(item.label, []).append((item, line))
    per_file: dict[str, dict[str, list[str]]] = {}
    for intent, entries in chosen.items():
        target = target_file(intent, blocks)
        assert target is not None
        lines = [line for _item, line in entries]
        plan.written[intent] = (target, [entry for entry, _line in entries], lines)
        per_file.setdefault(target, {})[intent] = lines
    for name, additions in sorted(per_file.items()):
        plan.files[name] = add_examples(files[name], additions, day)
    return plan


def data_fingerprint(files: Mapping[str, str]) -> str:
    """One hash of the NLU files' texts (name -> text), the same in both environments: the
    cross-validation report (scripts/nlu_report.py) records it, the trainer's per-intent view
    (handoff_service/intent_view.py) compares it with the files as they are now."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]
