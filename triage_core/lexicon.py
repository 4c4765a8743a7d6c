"""Danish risk lexicon: a crisis safety net that does not depend on the classifier.

Pure Python (standard library + PyYAML only, no Rasa import) on purpose: the
Rasa NLU component ``RiskSafetyNet`` uses it inside the pipeline, and the handoff
service (another Python environment without Rasa) imports it as a second safety
net for when Rasa is down.

The rules are data, kept in ``triage_core/risk_lexicon.yml`` (see the comments there for
the pattern syntax). Matching happens on normalised text (see :func:`normalise`).

Pattern syntax (plain "phrase" patterns, the default):

* words are matched on word boundaries, whole phrase at once;
* write real Danish (``dø``, ``være``, ``slår``): at load time ``æ`` also
  accepts ``ae``/``a``/``e``, ``ø`` accepts ``oe``/``o``/``oo``, ``å`` accepts
  ``aa``/``a``, and every letter may be doubled (``slaar``, ``ikkke``);
* ``(a|b c)`` alternatives, ``?`` after a word or group makes it optional,
  ``{name}`` inserts a macro from the file's ``macros`` section, ``*`` is a gap
  of 0-3 arbitrary words and ``**`` a gap of 0-6 words;
* a pattern starting with ``re:`` is a raw regular expression applied to the
  normalised text; ``{name}`` macros and ``æ``/``ø``/``å`` (outside character
  classes) work there too.

A rule fires on a pattern match unless one of its ``unless`` patterns matches a
span that overlaps the match (hard negatives such as "død træt" or "om selvmord
i dansk"), and, for rules with ``requires``, only if one of those patterns
occurs anywhere in the message (emoji need a co-occurring word).

The file's top-level ``reassurance`` patterns ("jeg er ikke i fare", "er i
sikkerhed nu", "han er gået i seng") are added to the ``unless`` of every
critical rule: a negated or reassuring danger phrase never raises a critical
intent by itself, while a real danger elsewhere in the same message still does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from re import Pattern
from typing import Any

import yaml

from triage_core.danish import DANISH_LETTERS, strip_accent
from triage_core.risk import INTENT_PRIORITY, INTENT_RISK, risk_of_intent, risk_rank
from triage_core.taxonomy import DANGER_KINDS, DANGER_OF_INTENT, FALLBACK_INTENT

__all__ = [
    "RiskLexicon",
    "RiskLexiconError",
    "RiskMatch",
    "RiskRule",
    "danger_kind_of",
    "default_lexicon_path",
    "normalise",
    "settle_reassurance",
]

_RULE_KINDS = frozenset({"phrase", "regex", "emoji", "dosage"})


class RiskLexiconError(ValueError):
    """The lexicon file is malformed (unknown intent, bad pattern, duplicate id ...)."""


def default_lexicon_path() -> Path:
    """Path of ``triage_core/risk_lexicon.yml`` (beside this module)."""
    return Path(__file__).resolve().parent / "risk_lexicon.yml"


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #

_DROP_CHARS = {
    "\ufe0f",  # emoji variation selector
    "\ufe0e",  # text variation selector
    "\u200d",  # zero-width joiner
    "\u200b",  # zero-width space
    "\u00ad",  # soft hyphen
}
_JOINING_PUNCTUATION = {"'", "\u2019", "\u2018", "`", "\u00b4"}  # "ta'" -> "ta"
_REPEATED_DANISH = re.compile(r"([æøå])\1+")
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
_WHITESPACE = re.compile(r"\s+")


def _is_emoji_like(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "So" or category == "Me"


def normalise(text: str) -> str:
    """Normalise a message for lexicon matching.

    NFKC, lower case, æ→ae, ø→oe, å→aa (and ä/ö), other accents removed,
    punctuation replaced by spaces (digits and emoji kept, emoji set apart as
    their own words), runs of 3+ identical letters collapsed to two
    ("dooooo" → "doo", "ikkkke" → "ikke"), whitespace collapsed.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = _REPEATED_DANISH.sub(r"\1", text)
    out: list[str] = []
    for char in text:
        if char in _DROP_CHARS:
            continue
        if char in DANISH_LETTERS:
            out.append(DANISH_LETTERS[char])
            continue
        if char in _JOINING_PUNCTUATION:
            continue
        if char.isalnum():
            if char.isalpha() and not char.isascii():
                out.append(strip_accent(char))  # é -> e, ü -> u ...
            else:
                out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Sk":  # skin tone modifiers and other modifier symbols
            continue
        if _is_emoji_like(char):
            out.append(f" {char} ")
            continue
        out.append(" ")
    collapsed = _REPEATED_LETTER.sub(r"\1\1", "".join(out))
    return _WHITESPACE.sub(" ", collapsed).strip()


# --------------------------------------------------------------------------- #
# Pattern compilation
# --------------------------------------------------------------------------- #

# What a letter of a pattern accepts in normalised text.
_LETTER_REGEX = {
    "æ": "(?:a+e*|e+)",
    "ø": "(?:o+e*)",
    "å": "(?:a+)",
    "ä": "(?:a+e*|e+)",
    "ö": "(?:o+e*)",
}
_GAP_SHORT = r"\S+(?:\s+\S+){0,2}"
_GAP_LONG = r"\S+(?:\s+\S+){0,5}"
_SPECIAL = set("(){}|?*")
_MACRO_IN_REGEX = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _prepare_pattern_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if c not in _DROP_CHARS and c not in _JOINING_PUNCTUATION)


def _word_regex(word: str) -> str:
    """Regex for one literal word of a phrase pattern (letters lenient, see module doc)."""
    parts: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        run_end = index
        while run_end + 1 < len(word) and word[run_end + 1] == char:
            run_end += 1
        if char in _LETTER_REGEX:
            parts.append(_LETTER_REGEX[char])
        elif char.isalpha():
            # strip accents the way normalise() does
            base = (
                "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
                )
                or char
            )
            parts.append("".join(f"{re.escape(b)}+" for b in base))
        elif char.isdigit():
            parts.append(re.escape(word[index : run_end + 1]))
        else:
            parts.append(re.escape(word[index : run_end + 1]))
        index = run_end + 1
    return "".join(parts)


class _PhraseParser:
    """Recursive-descent parser for the phrase pattern syntax.

    It returns the pattern's regex and, for the prefilter, what every match of it must contain:
    for each obligatory element, a set of pieces one of which occurs in the squeezed text (see
    :func:`squeeze`). An element that cannot promise a piece (a gap, a short word) adds nothing,
    so the requirements are necessary, never sufficient: the regex still decides."""

    def __init__(
        self,
        text: str,
        macros: Mapping[str, str],
        source: str,
        macro_needs: Mapping[str, tuple[Requirement, ...]] | None = None,
    ) -> None:
        self.text = text
        self.pos = 0
        self.macros = macros
        self.macro_needs = macro_needs or {}
        self.source = source

    def error(self, message: str) -> RiskLexiconError:
        return RiskLexiconError(f"{self.source}: {message} in pattern {self.text!r}")

    def parse(self) -> tuple[str, tuple[Requirement, ...]]:
        regex, needs = self.sequence(top_level=True)
        if self.pos != len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r}")
        return regex, tuple(needs)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def sequence(self, top_level: bool = False) -> tuple[str, list[Requirement]]:
        elements: list[tuple[str, bool]] = []
        needs: list[Requirement] = []
        while True:
            self.skip_spaces()
            if self.pos >= len(self.text):
                break
            char = self.text[self.pos]
            if char in "|)":
                if top_level:
                    raise self.error(f"unbalanced {char!r}")
                break
            regex, optional, element_needs = self.element()
            elements.append((regex, optional))
            if not optional:
                needs.extend(element_needs)
        if not elements:
            raise self.error("empty phrase or alternative")
        return _join_elements(elements), needs

    def element(self) -> tuple[str, bool, list[Requirement]]:
        char = self.text[self.pos]
        if char == "*":
            if self.text.startswith("**", self.pos):
                self.pos += 2
                return _GAP_LONG, True, []
            self.pos += 1
            return _GAP_SHORT, True, []
        if char == "(":
            self.pos += 1
            alternatives = [self.sequence()]
            while self.pos < len(self.text) and self.text[self.pos] == "|":
                self.pos += 1
                alternatives.append(self.sequence())
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise self.error("missing ')'")
            self.pos += 1
            regex = "(?:" + "|".join(regex for regex, _ in alternatives) + ")"
            needs = _either([needs for _, needs in alternatives])
        elif char == "{":
            end = self.text.find("}", self.pos)
            if end < 0:
                raise self.error("missing '}'")
            name = self.text[self.pos + 1 : end].strip()
            if name not in self.macros:
                raise self.error(f"unknown macro {{{name}}}")
            regex = self.macros[name]
            needs = list(self.macro_needs.get(name, ()))
            self.pos = end + 1
        elif char in "?}":
            raise self.error(f"unexpected {char!r}")
        else:
            start = self.pos
            while (
                self.pos < len(self.text)
                and not self.text[self.pos].isspace()
                and self.text[self.pos] not in _SPECIAL
            ):
                self.pos += 1
            word = self.text[start : self.pos]
            regex = _word_regex(word)
            piece = _word_piece(word)
            needs = [frozenset({piece})] if len(piece) >= 2 else []
        optional = self.pos < len(self.text) and self.text[self.pos] == "?"
        if optional:
            self.pos += 1
        return regex, optional, needs


def _join_elements(elements: Sequence[tuple[str, bool]]) -> str:
    """Join word-level elements with whitespace, handling optional ones."""
    pieces: list[str] = []
    seen_required = False
    leading_optionals: list[str] = []
    for regex, optional in elements:
        if not seen_required:
            if optional:
                leading_optionals.append(regex)
                continue
            for lead in leading_optionals:
                pieces.append(f"(?:{lead}\\s+)?")
            pieces.append(f"(?:{regex})")
            seen_required = True
            continue
        piece = f"\\s+(?:{regex})"
        pieces.append(f"(?:{piece})?" if optional else piece)
    if not seen_required:
        # only optional elements: make the last one required so the pattern is never empty
        *rest, last = leading_optionals
        for lead in rest:
            pieces.append(f"(?:{lead}\\s+)?")
        pieces.append(f"(?:{last})")
    return "".join(pieces)


def _compile_phrase(
    text: str,
    macros: Mapping[str, str],
    source: str,
    macro_needs: Mapping[str, tuple[Requirement, ...]] | None = None,
) -> tuple[str, tuple[Requirement, ...]]:
    """A phrase pattern's regex and the literal pieces every match of it contains."""
    return _PhraseParser(_prepare_pattern_text(text), macros, source, macro_needs).parse()


def _compile_regex(text: str, macros: Mapping[str, str], source: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if c not in _DROP_CHARS)

    def expand_macro(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise RiskLexiconError(f"{source}: unknown macro {{{name}}} in regex {text!r}")
        return f"(?:{macros[name]})"

    text = _MACRO_IN_REGEX.sub(expand_macro, text)
    out: list[str] = []
    in_class = False
    escaped = False
    for char in text:
        if escaped:
            out.append(char)
            escaped = False
            continue
        if char == "\\":
            out.append(char)
            escaped = True
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        if not in_class and char.lower() in _LETTER_REGEX:
            out.append(_LETTER_REGEX[char.lower()])
        else:
            out.append(char)
    return "".join(out)


# --------------------------------------------------------------------------- #
# Prefilter: literal pieces a match must contain
# --------------------------------------------------------------------------- #

#: One requirement: at least one of these pieces occurs in the squeezed message.
Requirement = frozenset[str]
_RUN = re.compile(r"(.)\1+")
_ASCII_PIECE = re.compile(r"[a-z0-9]+")


def squeeze(normalised: str) -> str:
    """``normalised`` with every run of one character cut to one ("sskaar" -> "skar")."""
    return _RUN.sub(r"\1", normalised)


def _word_piece(word: str) -> str:
    """The longest plain-letter piece of a pattern word, squeezed ("skære" -> "sk").

    A phrase word matches letter runs (``s+k+a+r+``), and æ/ø/å match several spellings, so
    what every match of the word contains, once squeezed, is each run of plain letters."""
    plain = word.translate(_PIECE_LETTERS)
    pieces = _ASCII_PIECE.findall(squeeze(plain))
    return max(pieces, key=len, default="")


# å matches "a+", ø and ö match "o+" then maybe "e": the piece goes on after å, ends after ø;
# æ and ä match "a", "ae" or "e", so they end a piece.
_PIECE_LETTERS = str.maketrans({"å": "a", "ø": "o ", "ö": "o ", "æ": " ", "ä": " "})


def _either(alternatives: Sequence[Sequence[Requirement]]) -> list[Requirement]:
    """What a choice of alternatives requires: one piece from each alternative's strongest
    requirement, or nothing when some alternative requires nothing."""
    chosen: set[str] = set()
    for needs in alternatives:
        if not needs:
            return []
        chosen |= min(needs, key=lambda need: (len(need), -min(len(p) for p in need)))
    return [frozenset(chosen)]


def _key(needs: tuple[Requirement, ...]) -> Requirement | None:
    """The requirement that rules a pattern out most often: long pieces, few of them."""
    if not needs:
        return None
    return max(needs, key=lambda need: (min(len(piece) for piece in need), -len(need)))


_BOUNDARY_START = r"(?<!\w)"
_BOUNDARY_END = r"(?!\w)"


def _compile_pattern(
    raw: str, default_kind: str, macros: Mapping[str, str], source: str
) -> Pattern[str]:
    return _compile_pattern_needs(raw, default_kind, macros, source)[0]


def _compile_pattern_needs(
    raw: str,
    default_kind: str,
    macros: Mapping[str, str],
    source: str,
    macro_needs: Mapping[str, tuple[Requirement, ...]] | None = None,
) -> tuple[Pattern[str], tuple[Requirement, ...]]:
    """A pattern and what every match of it contains (nothing promised for regex and emoji
    patterns: the prefilter always runs them)."""
    if not isinstance(raw, str) or not raw.strip():
        raise RiskLexiconError(f"{source}: patterns must be non-empty strings, got {raw!r}")
    raw = raw.strip()
    needs: tuple[Requirement, ...] = ()
    if raw.startswith("re:"):
        body = _compile_regex(raw[3:].strip(), macros, source)
    elif default_kind in ("regex", "dosage"):
        body = _compile_regex(raw, macros, source)
    elif default_kind == "emoji":
        emoji = _prepare_pattern_text(raw).replace(" ", "")
        body = "\\s*".join(re.escape(c) for c in emoji)
    else:
        phrase, needs = _compile_phrase(raw, macros, source, macro_needs)
        body = _BOUNDARY_START + phrase + _BOUNDARY_END
    try:
        return re.compile(body), needs
    except re.error as exc:
        raise RiskLexiconError(f"{source}: invalid pattern {raw!r}: {exc}") from exc


# --------------------------------------------------------------------------- #
# Rules and matching
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class RiskMatch:
    """One lexicon hit."""

    intent: str
    risk: str
    rule_id: str
    matched: str
    danger: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "intent": self.intent,
            "risk": self.risk,
            "rule_id": self.rule_id,
            "matched": self.matched,
            "danger": self.danger,
        }


def danger_kind_of(matches: Iterable[RiskMatch]) -> str | None:
    """The most urgent danger kind among lexicon hits (None when no critical rule fired)."""
    kinds = [m.danger or DANGER_OF_INTENT.get(m.intent) for m in matches if m.risk == "critical"]
    known = [k for k in kinds if k]
    if not known:
        return None
    return min(known, key=DANGER_KINDS.index)


@dataclass(frozen=True)
class RiskRule:
    """A compiled lexicon rule."""

    rule_id: str
    intent: str
    kind: str
    patterns: tuple[Pattern[str], ...]
    unless: tuple[Pattern[str], ...] = field(default=())
    requires: tuple[Pattern[str], ...] = field(default=())
    danger: str | None = None
    #: For each pattern, the literal pieces every match of it contains (see :func:`squeeze`);
    #: the lexicon runs a pattern only on a message that has them. Empty: no prefilter.
    needs: tuple[tuple[Requirement, ...], ...] = field(default=())

    @property
    def risk(self) -> str:
        return risk_of_intent(self.intent)

    def vetoed_by(self, normalised: str) -> bool:
        """Whether an ``unless`` pattern of this rule matches anywhere in ``normalised``."""
        return any(p.search(normalised) for p in self.unless)

    def find(self, normalised: str, live: Container[int] | None = None) -> str | None:
        """The first matched fragment of ``normalised`` that survives ``unless``.

        ``live``, when given, holds the indices of the patterns worth running (the others lack
        a literal piece every match of theirs contains): the answer is the same, only faster."""
        if self.requires and not any(p.search(normalised) for p in self.requires):
            return None
        blocked: list[tuple[int, int]] | None = None
        for index, pattern in enumerate(self.patterns):
            if live is not None and index not in live:
                continue
            for hit in pattern.finditer(normalised):
                start, end = hit.span()
                if end == start:
                    continue
                if self.unless:
                    if blocked is None:
                        blocked = [u.span() for p in self.unless for u in p.finditer(normalised)]
                    if any(u_start < end and start < u_end for u_start, u_end in blocked):
                        continue
                return hit.group(0).strip()
        return None


def _as_list(value: Any, source: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise RiskLexiconError(f"{source}: '{key}' must be a string or a list of strings")


def settle_reassurance(ranking: Sequence[str], text: str) -> str:
    """The intent for a reassurance a classifier read as critical: its best non-critical intent
    (``ranking``: intent names, best first), else deny or affirm by the first word."""
    for name in ranking:
        if name != FALLBACK_INTENT and risk_of_intent(name) != "critical":
            return name
    first = (text.strip().split() or [""])[0].lower().strip(",.!")
    return "deny" if first in {"nej", "næ", "nope", "nah", "no", "nix"} else "affirm"


#: A reassurance that comes with "but", "although" or "still" is no reassurance.
_CONTRAST = re.compile(r"(?<!\w)(?:men|selvom|selv om|stadig|alligevel|endnu|but|although)(?!\w)")
#: A short reassurance is an answer, not a story: at most this many words.
REASSURANCE_MAX_WORDS = 12


class RiskLexicon:
    """A set of compiled risk rules; see :meth:`match`."""

    def __init__(
        self,
        rules: Iterable[RiskRule],
        version: str | int | None = None,
        reassurance: Iterable[Pattern[str]] = (),
        hyperbole: Iterable[Pattern[str]] = (),
    ) -> None:
        self.rules: tuple[RiskRule, ...] = tuple(rules)
        self.version = version
        self.reassurance: tuple[Pattern[str], ...] = tuple(reassurance)
        self.hyperbole: tuple[Pattern[str], ...] = tuple(hyperbole)
        order = {intent: index for index, intent in enumerate(INTENT_PRIORITY)}
        # Highest risk first, then the most urgent intent, then file order.
        self._ordered = sorted(
            enumerate(self.rules),
            key=lambda item: (-risk_rank(item[1].risk), order.get(item[1].intent, 99), item[0]),
        )
        # The prefilter: which patterns each literal piece lets run, and those that always run.
        self._always: list[frozenset[int]] = []
        self._owners: dict[str, list[tuple[int, int]]] = {}
        for position, rule in enumerate(self.rules):
            always = set(range(len(rule.patterns)))
            for index, needs in enumerate(rule.needs):
                key = _key(needs)
                if key is not None:
                    always.discard(index)
                    for piece in key:
                        self._owners.setdefault(piece, []).append((position, index))
            self._always.append(frozenset(always))

    def _live(self, squeezed: str) -> list[Container[int]]:
        """For each rule, the indices of its patterns whose key piece is in the message."""
        live: list[set[int]] = [set(always) for always in self._always]
        for piece, owners in self._owners.items():
            if piece in squeezed:
                for position, index in owners:
                    live[position].add(index)
        return list(live)

    # -- loading ------------------------------------------------------------ #

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> RiskLexicon:
        """Load and compile a lexicon file (default: :func:`default_lexicon_path`)."""
        path = Path(path) if path is not None else default_lexicon_path()
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<lexicon>") -> RiskLexicon:
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            raise RiskLexiconError(f"{source}: expected a mapping with a 'rules' list")
        macros, macro_needs = cls._compile_macros(data.get("macros") or {}, source)
        reassurance = tuple(
            _compile_pattern(p, "phrase", macros, f"{source}: reassurance")
            for p in _as_list(data.get("reassurance"), source, "reassurance")
        )
        hyperbole = tuple(
            _compile_pattern(p, "phrase", macros, f"{source}: hyperbole")
            for p in _as_list(data.get("hyperbole"), source, "hyperbole")
        )
        rules: list[RiskRule] = []
        seen_ids = set()
        for index, raw in enumerate(data["rules"]):
            where = f"{source}: rule #{index + 1}"
            if not isinstance(raw, dict):
                raise RiskLexiconError(f"{where}: a rule must be a mapping")
            rule_id = raw.get("id")
            if not isinstance(rule_id, str) or not rule_id:
                raise RiskLexiconError(f"{where}: missing 'id'")
            where = f"{source}: rule {rule_id}"
            if rule_id in seen_ids:
                raise RiskLexiconError(f"{where}: duplicate id")
            seen_ids.add(rule_id)
            intent = raw.get("intent")
            if intent not in INTENT_RISK:
                raise RiskLexiconError(
                    f"{where}: intent must be one of {sorted(INTENT_RISK)}, got {intent!r}"
                )
            kind = raw.get("kind", "phrase")
            if kind not in _RULE_KINDS:
                raise RiskLexiconError(f"{where}: kind must be one of {sorted(_RULE_KINDS)}")
            danger = raw.get("danger")
            if danger is not None and danger not in DANGER_KINDS:
                raise RiskLexiconError(f"{where}: danger must be one of {list(DANGER_KINDS)}")
            if danger is not None and risk_of_intent(intent) != "critical":
                raise RiskLexiconError(f"{where}: only critical rules name a danger kind")
            patterns = _as_list(raw.get("patterns"), where, "patterns")
            if not patterns:
                raise RiskLexiconError(f"{where}: no patterns")
            if kind == "emoji" and not raw.get("requires"):
                raise RiskLexiconError(
                    f"{where}: emoji rules need 'requires' (a co-occurring word), "
                    "a lone emoji is too ambiguous"
                )
            unless = _as_list(raw.get("unless"), where, "unless")
            critical = risk_of_intent(intent) == "critical"
            compiled = [
                _compile_pattern_needs(p, kind, macros, where, macro_needs) for p in patterns
            ]
            rules.append(
                RiskRule(
                    rule_id=rule_id,
                    intent=intent,
                    kind=kind,
                    patterns=tuple(pattern for pattern, _ in compiled),
                    unless=tuple(_compile_pattern(p, "phrase", macros, where) for p in unless)
                    + (reassurance if critical else ()),
                    requires=tuple(
                        _compile_pattern(p, "phrase", macros, where)
                        for p in _as_list(raw.get("requires"), where, "requires")
                    ),
                    danger=danger,
                    needs=tuple(needs for _, needs in compiled),
                )
            )
        return cls(rules, version=data.get("version"), reassurance=reassurance, hyperbole=hyperbole)

    @staticmethod
    def _compile_macros(
        raw_macros: Any, source: str
    ) -> tuple[dict[str, str], dict[str, tuple[Requirement, ...]]]:
        """Each macro's regex, and what every match of it contains (see :func:`squeeze`)."""
        if not isinstance(raw_macros, dict):
            raise RiskLexiconError(f"{source}: 'macros' must be a mapping")
        compiled: dict[str, str] = {}
        needs: dict[str, tuple[Requirement, ...]] = {}
        # Macros may use macros defined above them.
        for name, alternatives in raw_macros.items():
            where = f"{source}: macro {name}"
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(name)):
                raise RiskLexiconError(f"{where}: macro names are lower-case identifiers")
            items = _as_list(alternatives, where, name)
            if not items:
                raise RiskLexiconError(f"{where}: empty macro")
            parsed = [_compile_phrase(item, compiled, where, needs) for item in items]
            # Longer alternatives first so the reported fragment is the fullest one.
            order = sorted(range(len(items)), key=lambda i: -len(items[i]))
            compiled[str(name)] = "(?:" + "|".join(parsed[i][0] for i in order) + ")"
            needs[str(name)] = tuple(_either([list(need) for _, need in parsed]))
        return compiled, needs

    # -- matching ----------------------------------------------------------- #

    def match_all(self, text: str, lemmas: str | None = None) -> list[RiskMatch]:
        """Every rule that fires on ``text``, riskiest and most urgent first (see :meth:`match`)."""
        normalised = normalise(text)
        if not normalised:
            return []
        normalised_lemmas = normalise(lemmas) if lemmas else ""
        if normalised_lemmas == normalised:
            normalised_lemmas = ""
        live = self._live(squeeze(normalised))
        live_lemmas = self._live(squeeze(normalised_lemmas)) if normalised_lemmas else live
        matches: list[RiskMatch] = []
        for position, rule in self._ordered:
            fragment = rule.find(normalised, live[position])
            if fragment is None and normalised_lemmas:
                fragment = rule.find(normalised_lemmas, live_lemmas[position])
                # lemmatising rewrites the words unless patterns recognise: check as written
                if fragment is not None and rule.vetoed_by(normalised):
                    fragment = None
            if fragment is not None:
                matches.append(
                    RiskMatch(rule.intent, rule.risk, rule.rule_id, fragment, rule.danger)
                )
        return matches

    def danger_kind(self, text: str, lemmas: str | None = None) -> str | None:
        """The most urgent kind of danger in ``text`` (None when nothing critical fired)."""
        return danger_kind_of(self.match_all(text, lemmas))

    def match(self, text: str, lemmas: str | None = None) -> RiskMatch | None:
        """The highest-risk hit for ``text`` or ``None``.

        ``lemmas``, when given, is the same message as a sequence of lemmas (inside Rasa, spaCy's
        Danish lookup lemmas: "skar" -> "skære", "trangen" -> "trang"), so a rule written for one
        form of a word also fires on its inflections. A hit found only in the lemmas counts when
        none of the rule's ``unless`` patterns matches the message as written: lemmatising
        rewrites the very words those patterns recognise ("læser hamlet" -> "læse hamlet").

        Ties are broken deterministically: critical before high, then
        immediate_danger, suicidal, self_harm, violence, then file order.
        """
        normalised = normalise(text)
        if not normalised:
            return None
        normalised_lemmas = normalise(lemmas) if lemmas else ""
        if normalised_lemmas == normalised:
            normalised_lemmas = ""
        live = self._live(squeeze(normalised))
        live_lemmas = self._live(squeeze(normalised_lemmas)) if normalised_lemmas else live
        for position, rule in self._ordered:
            fragment = rule.find(normalised, live[position])
            if fragment is None and normalised_lemmas:
                fragment = rule.find(normalised_lemmas, live_lemmas[position])
                # lemmatising rewrites the words unless patterns recognise: check as written
                if fragment is not None and rule.vetoed_by(normalised):
                    fragment = None
            if fragment is not None:
                return RiskMatch(rule.intent, rule.risk, rule.rule_id, fragment, rule.danger)
        return None

    def reassured(self, text: str, lemmas: str | None = None) -> bool:
        """Whether ``text`` is a short reassurance or hyperbole and nothing critical besides.

        "nej jeg er ikke i fare lige nu", "ja jeg er safe nu, han er gået i seng", "lektierne
        tager livet af mig": one of the file's ``reassurance`` or ``hyperbole`` patterns matches,
        no critical rule fires (on the text or its lemmas), the message has at most
        :data:`REASSURANCE_MAX_WORDS` words and no "men", "selvom" or "stadig" (a reassurance
        with a but is no reassurance). RiskSafetyNet then keeps a classifier from reading the
        danger words in it as an emergency.
        """
        normalised = normalise(text)
        patterns = self.reassurance + self.hyperbole
        if not normalised or not patterns:
            return False
        if len(normalised.split()) > REASSURANCE_MAX_WORDS or _CONTRAST.search(normalised):
            return False
        if not any(p.search(normalised) for p in patterns):
            return False
        return all(m.risk != "critical" for m in self.match_all(text, lemmas))

    def rule_counts(self) -> dict[str, int]:
        """Number of rules per intent."""
        counts: dict[str, int] = {intent: 0 for intent in INTENT_PRIORITY}
        for rule in self.rules:
            counts[rule.intent] += 1
        return counts
