"""Personal data out of a message before it is kept for the trainer (docs/trainer.md).

``scrub(text)`` returns the text with personal data replaced by placeholders and how many of
each it replaced. Pure Python (standard library and PyYAML), so the service and the bot can both
use it. What it replaces, in this order:

* ``[URL]``: ``http(s)://…``, ``www.…`` and bare domains with a common top-level domain
  (``snapchat.com/add/…``, ``minside.dk``). Domains that the approved content names (helplines
  like ``livslinien.dk``) stay.
* ``[EMAIL]``: ``navn@domæne.tld``.
* ``[BRUGERNAVN]``: ``@handle`` and the word after "min snap/insta/tiktok/discord (er)".
* ``[CPR]``: ten digits ``ddmmyy-xxxx``, ``ddmmyy xxxx`` or ``ddmmyyxxxx`` whose first six
  digits are a real date (day 01-31 valid for its month, month 01-12; 29 February whenever
  either century makes it a leap year). Decision: ten digits that are not a date are not a
  CPR number; if they start with 45 they are read as a phone number with its country code
  (``[TELEFON]``), else they are left alone (order numbers and the like are not personal data
  we can recognise).
* ``[TELEFON]``: eight digits, optionally after ``+45``/``0045``, written together, in 2-2-2-2
  groups (one separator kind: space, dash or dot), 4-4 (space or dash) or 2-3-3 (space).
  Helpline numbers from ``triage_core/content/emergency_numbers.yml`` stay (``70 201 201``,
  ``82 12 12 12`` …); 112, 116 111 and 1813 are never eight digits anyway.
* ``[ADRESSE]``: a street name ending in a Danish street word (-vej, -gade, -allé, -stræde,
  -vænget, -parken, -torv, -plads, -stien, -boulevard, -have, -højen, -bakken, -toften, -engen
  …) followed by a house number, optionally a floor ("2. tv", "st. th") and a postcode with a
  town ("8000 Aarhus C"). The street word alone ("i parken 2 timer", "vil have 2") is not an
  address: it needs a prefix ("Rosenvænget") or a capitalised name before it ("Jens Baggesens
  Vej").
* ``[NAVN]``: first names from ``triage_core/names_da.txt`` (about 800, see its header) when
  capitalised, or in any case after a cue ("jeg hedder", "mit navn er", "min mor/bror/kæreste
  … hedder", "hun/han hedder", and "min bror/søster/ven/veninde/kæreste …" straight before the
  name). After "hedder"/"mit navn er" the next word is taken as a name even when the list does
  not know it (unless it is a small word like "ikke" or "noget"). Names that are also ordinary
  words (:data:`AMBIGUOUS_NAMES`: "Per", "Bo", "Liv", "Hans", "Tom", "Maj" …) need a
  "hedder"-cue or a capital in the middle of a sentence, never at its start. Surnames ending in
  -sen/-gaard are replaced in any case, other surnames (Holm, Lund, Skov …) only when
  capitalised mid-sentence or right after a first name. A name's genitive keeps its s
  ("Emmas" → "[NAVN]s"). Runs of names become one ``[NAVN]``.

Limits (be honest): a name written in lower case without a cue ("jeg var hos emma") is missed,
and so is a name the list does not know when it has no cue. A street without a house number, a
town on its own, a school's name, a phone number split in unusual groups and anything written
as words ("to tre fire …") are not recognised. Over-scrubbing is preferred: two years written
"2019 2020" read as a phone number.

Times (17:30, kl. 22), ages (15 år, jeg er 14), doses (30 panodiler, 2 g), dates (12/3,
12.03.2024), years, money (200 kr) and percentages are left alone (tests/bot/test_scrub.py).

Speed: 37-64 µs a message in both environments (10,000 typical chat messages, median of 5
runs, on the 2-core development machine while other jobs ran; ``python -m triage_core.scrub
--bench``): far below the ~90 ms of a turn.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["AMBIGUOUS_NAMES", "PLACEHOLDERS", "ScrubResult", "scrub"]

HERE = Path(__file__).resolve().parent
NAMES_FILE = HERE / "names_da.txt"
NUMBERS_FILE = HERE / "content" / "emergency_numbers.yml"
CONTENT_DIR = HERE / "content"

PLACEHOLDERS = ("[CPR]", "[TELEFON]", "[EMAIL]", "[URL]", "[BRUGERNAVN]", "[ADRESSE]", "[NAVN]")

#: First names that are also ordinary Danish (or common English) words: replaced only after a
#: "hedder"-cue or when capitalised in the middle of a sentence.
AMBIGUOUS_NAMES = frozenset(
    (
        "per bo liv line hans tom kim sol storm vilde mark maj jan juni august lærke laerke lilje "
        "lykke rosa rose gry tine ane kaj sten stig tage dag ravn bjørn ask aske rune birk silke "
        "mynte aura pil bror saga vibe iris flora anker ulf tue bjørk nova max frank finn said "
        "else siri dan noor elly mimi tim nick jack robin toke odin ea mai mie fie ib nis lis kai "
        "tor thor oda tea tora lulu ove uno ture kent jon"
    ).split()
)
#: Words after "hedder"/"mit navn er" that are not a name ("jeg hedder ikke noget").
_NOT_A_NAME = frozenset(
    (
        "ikke noget det den jo bare faktisk også ogsaa egentlig sådan saadan vel da nu så saa "
        "altså altsaa heller ik ka kan er og men eller hvad hvem du jeg han hun min mit mine din "
        "dit hans hendes vist lige nok som at en et i på paa med til af for om hedder"
    ).split()
)
_FILLERS = frozenset("jo bare faktisk også ogsaa egentlig vist lige da".split())

# -- placeholders are whole tokens; the name step must not read them as words ---------------
_PLACEHOLDER_WORDS = frozenset(p.strip("[]").lower() for p in PLACEHOLDERS)


@dataclass(frozen=True)
class ScrubResult:
    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


# --------------------------------------------------------------------------- #
# Data read once: names, helpline numbers and domains of the approved content
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Names:
    first: frozenset[str]
    surnames: frozenset[str]


@lru_cache(maxsize=1)
def _names() -> _Names:
    first: set[str] = set()
    surnames: set[str] = set()
    target = first
    for raw in NAMES_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "[surnames]":
            target = surnames
            continue
        target.add(line.lower())
    return _Names(frozenset(first), frozenset(surnames))


# Used if the content library cannot be read: the helplines the content shows young people.
_FALLBACK_HELPLINES = frozenset({"70201201", "80200500", "82121212"})


@lru_cache(maxsize=1)
def _helpline_digits() -> frozenset[str]:
    """Eight-digit helpline numbers the content shows (digits only, without +45)."""
    try:
        data = yaml.safe_load(NUMBERS_FILE.read_text(encoding="utf-8")) or {}
        entries = data.get("numbers") or []
    except (OSError, yaml.YAMLError):
        return _FALLBACK_HELPLINES
    digits: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        for key in ("number", "tel"):
            value = re.sub(r"\D", "", str(entry.get(key) or ""))
            if value.startswith("45") and len(value) == 10:
                value = value[2:]
            if len(value) == 8:
                digits.add(value)
    return frozenset(digits) or _FALLBACK_HELPLINES


_DOMAIN_IN_CONTENT = re.compile(r"\b((?:[a-z0-9-]+\.)+(?:dk|com|org|net|eu))\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _public_domains() -> frozenset[str]:
    """Domains the approved content names (helplines, sources): not personal data."""
    domains: set[str] = set()
    try:
        for path in sorted(CONTENT_DIR.glob("*.yml")):
            domains.update(
                d.lower() for d in _DOMAIN_IN_CONTENT.findall(path.read_text(encoding="utf-8"))
            )
    except OSError:
        pass
    return frozenset(domains)


# --------------------------------------------------------------------------- #
# Patterns
# --------------------------------------------------------------------------- #

_L = "a-zA-ZæøåÆØÅéüöäÉ"  # letters of a Danish word
_BARE_TLDS = "dk|com|net|org|io|app|info|eu|gg|ly|co|uk|xyz|link|me"
_URL = re.compile(
    r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+"
    rf"|(?<![\w@.])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_BARE_TLDS})\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,30}(?<!\.)")
_HANDLE_CUE = re.compile(
    r"\b((?:min|mit|hans|hendes|din|vores)\s+(?:snap|snapchat|insta|instagram|tiktok|discord|kik)"
    r"(?:(?:\s+(?:er|hedder)|\s*:)\s*|\s+(?=[\w.]*[0-9_]))"
    r")(?!\[)([\w.]{3,30})",
    re.IGNORECASE,
)
# Ten digits (CPR shape) or eight digits (phone), never glued to other digits or letters.
_SEP = r"[ .-]"
_NUMBER = re.compile(
    r"(?<![\w+])(?:"
    r"(?P<cpr>\d{6}(?:[-\u2010\u2013 ]?)\d{4})"
    r"|(?P<phone>(?:(?:\+|00)\s?45[ .-]?)?"
    rf"(?:\d{{2}}(?P<s>{_SEP}?)\d{{2}}(?P=s)\d{{2}}(?P=s)\d{{2}}"
    r"|\d{4}[ -]\d{4}|\d{2} \d{3} \d{3}))"
    r")(?![\w]|[.,:/]\d)"
)
_STREET_WORDS = (
    "vej|vejen|gade|gaden|allé|alle|allè|stræde|straede|vænget|vaenget|vænge|vaenge|parken|park|"
    "torv|torvet|plads|pladsen|stien|sti|boulevard|have|haven|højen|hoejen|bakken|bakke|toften|"
    "toft|engen|eng|vang|vangen|løkken|loekken|kvarter|kaj|kajen|ager|agervej|lund|lunden|"
    "holm|bjerg|bjerget|hegn|hegnet|gården|haven|skov|marken|dal|dalen|bro|broen"
)
_HOUSE = r"\d{1,4}(?:\s?[a-zA-Z](?![\w]))?"
_FLOOR = r"(?:,?\s*(?:st|\d{1,2})(?:\.?\s*(?:tv|th|mf)\.?|\.)(?![\w]))?"
_TOWN = rf"(?:,?\s*\d{{4}}\s+[A-ZÆØÅ][{_L}-]+(?:\s+[A-ZÆØÅ](?![\w]))?)?"
_UNITS = (
    r"(?!\s*(?:år|aar|ar|kr|kroner|gange|gang|timer|time|min|minutter|dage|dag|uger|uge|%|g|mg|"
    r"stk|piller|pille|panodiler|sek|km|m|cm|kg|klasse)\b)"
)
_ADDRESS = re.compile(
    # a compound street name ("nørregade", "Rosenvænget", "Gammel Kongevej") or capitalised
    # words before a street word of its own ("Jens Baggesens Vej", "H.C. Andersens Boulevard")
    rf"(?:(?<![\w])(?-i:[A-ZÆØÅ][{_L}]*\.?[ -])?[{_L}]{{2,}}(?:{_STREET_WORDS})"
    rf"|(?<![\w])(?-i:(?:[A-ZÆØÅ][{_L}.]*\s+){{1,3}})(?:{_STREET_WORDS}))"
    rf"\s+{_HOUSE}{_UNITS}{_FLOOR}{_TOWN}(?![\w])",
    re.IGNORECASE,
)
_WORD = re.compile(rf"[{_L}][{_L}'-]*")
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")
# "det hedder …": the next word is a name only if the list knows it.
_NAME_CUE = re.compile(r"\b(?:hedder|heder|hedde|hed|kaldes)\s*$", re.IGNORECASE)
# "jeg hedder …", "min mor hedder …", "mit navn er …": the next word is a name whatever it is.
_PERSON_CUE = re.compile(
    r"(?:\b(?:jeg|hun|han|du|hende|ham)\s+(?:hedder|heder|hedde|hed|kaldes)"
    r"|\b(?:min|mit|mine|hans|hendes|vores|din)\s+[\wæøå]+\s+(?:hedder|heder|hed|kaldes)"
    r"|\bnavn(?:et)?\s+er|\bkalder\s+(?:mig|ham|hende))\s*$",
    re.IGNORECASE,
)
_RELATION_CUE = re.compile(
    r"\b(?:min|mit|mine|hans|hendes|vores|din)\s+(?:mor|far|mors|fars|bror|lillebror|storebror|"
    r"søster|soster|soester|lillesøster|storesøster|kæreste|kaereste|stedfar|stedmor|ven|veninde|"
    r"bedstemor|bedstefar|mormor|morfar|farmor|farfar|onkel|moster|faster|tante|fætter|kusine|"
    r"lærer|laerer|kontaktperson|pædagog|plejemor|plejefar|nabo)\s*$",
    re.IGNORECASE,
)


def _date_valid(digits: str) -> bool:
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        # 29 February exists in 2000 + yy when yy % 4 == 0 (and in 1900 + yy except 1900)
        return day <= (29 if year % 4 == 0 else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


# --------------------------------------------------------------------------- #
# Steps
# --------------------------------------------------------------------------- #


class _Scrubber:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def put(self, placeholder: str) -> str:
        self.counts[placeholder] += 1
        return placeholder

    # -- URLs, e-mail, handles --------------------------------------------------------------
    def url(self, match: re.Match[str]) -> str:
        value = match.group(0)
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.lower()).split("/")[0]
        if host in _public_domains():
            return value
        trailing = ""
        while value and value[-1] in ".,!?)":
            trailing = value[-1] + trailing
            value = value[:-1]
        return self.put("[URL]") + trailing

    def handle(self, match: re.Match[str]) -> str:
        return self.put("[BRUGERNAVN]")

    # -- numbers ----------------------------------------------------------------------------
    def number(self, match: re.Match[str]) -> str:
        value = match.group(0)
        digits = re.sub(r"\D", "", value)
        if match.group("cpr") is not None:
            if _date_valid(digits):
                return self.put("[CPR]")
            if digits.startswith("45"):
                return self.put("[TELEFON]")
            return value
        local = digits[-8:]
        if local in _helpline_digits():
            return value
        return self.put("[TELEFON]")

    # -- addresses --------------------------------------------------------------------------
    def address(self, match: re.Match[str]) -> str:
        return self.put("[ADRESSE]")

    # -- names ------------------------------------------------------------------------------
    def names(self, text: str) -> str:
        names = _names()
        out: list[str] = []
        last = 0
        previous_was_name = False
        seen_text = False  # anything but spaces before this word: not the message's start
        for match in _WORD.finditer(text):
            word = match.group(0)
            start, end = match.span()
            before = text[last:start]
            lower = word.lower()
            tail = text[max(0, start - 48) : start]
            if lower in _PLACEHOLDER_WORDS and start > 0 and text[start - 1] == "[":
                verdict: bool | str = False
            else:
                sentence_start = not seen_text or bool(_SENTENCE_END.search(tail))
                verdict = _name_verdict(
                    word,
                    lower,
                    tail,
                    names,
                    sentence_start,
                    previous_was_name and not before.strip(),
                )
            if verdict:
                suffix = "s" if verdict == "genitive" else ""
                if previous_was_name and not before.strip() and out:
                    out.append(suffix)  # "Emma Louise Jensen" is one name
                else:
                    out.append(before + self.put("[NAVN]") + suffix)
                previous_was_name = True
            else:
                out.append(before + word)
                previous_was_name = False
            seen_text = True
            last = end
        out.append(text[last:])
        return "".join(out)

    def handle_cue(self, match: re.Match[str]) -> str:
        if match.group(2).lower() in _NOT_A_NAME:
            return match.group(0)
        return match.group(1) + self.put("[BRUGERNAVN]")


def _name_verdict(
    word: str,
    lower: str,
    tail: str,
    names: _Names,
    sentence_start: bool,
    after_name: bool,
) -> bool | str:
    """Whether `word` is a name here: False, True, or "genitive" ("Emmas")."""
    if len(lower) < 2:
        return False
    capital = word[0].isupper()
    mid_sentence = capital and not sentence_start
    person_cue = bool(_PERSON_CUE.search(tail)) or _cue_behind_fillers(tail, _PERSON_CUE)
    if person_cue and lower not in _FILLERS:
        return lower not in _NOT_A_NAME
    if after_name and capital and lower not in _NOT_A_NAME:
        return True  # "Ahmed Al-Sayed", "Emma Kjærgaard"
    if lower in names.surnames:
        if lower.endswith(("sen", "gaard")) and len(lower) > 4:
            return True
        return mid_sentence or (capital and after_name)
    base, genitive = lower, False
    if base not in names.first and base.endswith("s") and base[:-1] in names.first:
        base, genitive = base[:-1], True
    if base not in names.first:
        return False
    if _NAME_CUE.search(tail) or _cue_behind_fillers(tail, _NAME_CUE):
        return "genitive" if genitive else True
    if base in AMBIGUOUS_NAMES:
        return not genitive and (mid_sentence or (capital and after_name))
    if capital or _RELATION_CUE.search(tail):
        return "genitive" if genitive else True
    return False


def _cue_behind_fillers(tail: str, cue: re.Pattern[str]) -> bool:
    """ "jeg hedder jo emma": up to two fillers between the cue and the name."""
    words = tail.split()
    dropped = 0
    while words and words[-1].lower() in _FILLERS and dropped < 2:
        words.pop()
        dropped += 1
    return dropped > 0 and bool(cue.search(" ".join(words)))


def scrub(text: str) -> ScrubResult:
    """`text` with personal data replaced by placeholders, and how many of each."""
    if not text:
        return ScrubResult(text or "", {})
    worker = _Scrubber()
    if "." in text or "/" in text:
        text = _URL.sub(worker.url, text)
    if "@" in text:
        text = _EMAIL.sub(lambda m: worker.put("[EMAIL]"), text)
        text = _HANDLE.sub(worker.handle, text)
    text = _HANDLE_CUE.sub(worker.handle_cue, text)
    if any(c.isdigit() for c in text):
        text = _NUMBER.sub(worker.number, text)
        text = _ADDRESS.sub(worker.address, text)
    text = worker.names(text)
    return ScrubResult(text, dict(worker.counts))


# --------------------------------------------------------------------------- #
# python -m triage_core.scrub --bench
# --------------------------------------------------------------------------- #

_BENCH_MESSAGES = (
    "hej jeg hedder emma og er 14 år",
    "min mor drikker hver aften og jeg ved ikke hvad jeg skal gøre",
    "ring til mig på 22 33 44 55 eller skriv til emma.hansen@gmail.com",
    "jeg bor på nørregade 12 2. tv 8000 aarhus c",
    "min far har slået mig igen i aften 😢",
    "er det min skyld at han drikker??",
    "kl 22 kommer han hjem og så starter det",
    "adda min snap lisa_2009 eller tjek www.minside.dk",
    "jeg har taget 30 panodiler",
    "hvornår kan jeg snakke med en voksen",
)


def _bench(n: int = 10_000, runs: int = 5) -> float:
    """Median µs a message over `runs` runs of `n` messages."""
    messages = [_BENCH_MESSAGES[i % len(_BENCH_MESSAGES)] + f" {i % 7}" for i in range(n)]
    scrub(messages[0])  # load the names and the content once
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for message in messages:
            scrub(message)
        timings.append((time.perf_counter() - started) / n * 1e6)
    timings.sort()
    return timings[len(timings) // 2]


if __name__ == "__main__":
    if "--bench" in sys.argv:
        print(f"scrub: {_bench():.1f} µs a message (10,000 messages, median of 5 runs)")
    else:
        for line in sys.stdin:
            print(scrub(line.rstrip("\n")).text)
