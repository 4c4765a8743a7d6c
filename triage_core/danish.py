"""The Danish letter tables, and the fold the NLU reads tokens with.

Young people write "død", "doed" and "dod", "være", "vaere" and "vare". Two places fold these:
the risk lexicon (:func:`triage_core.lexicon.normalise`, which keeps æ/ø/å apart as ae/oe/aa so a
pattern can still tell them apart) and the NLU's DanishTokenNormaliser (:func:`fold`, which
folds further, onto one vowel). Both start from :data:`DANISH_LETTERS`.
"""

from __future__ import annotations

import re
import unicodedata

#: The Danish (and the Swedish/German look-alike) letters and their ASCII spellings.
DANISH_LETTERS: dict[str, str] = {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe"}


def strip_accent(char: str) -> str:
    """A letter without its accent (é → e, ü → u); letters without a decomposition stay."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    return stripped or char


# After æ→ae, ø→oe, å→aa: the ASCII spellings fold onto one vowel each ("ae"→"a" covers
# "vaere"/"være"/"vare", "oe"→"o" covers "doed"/"død"/"dod", "aa"→"a" covers "gaar"/"går"/"gar").
_DIGRAPHS = re.compile(r"ae|oe|aa")
_DIGRAPH_TO = {"ae": "a", "oe": "o", "aa": "a"}
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_DANISH = re.compile(r"([æøåäö])\1+")  # never doubled in Danish: "døøød" → "død"
_DROP = {"'", "\u2019", "\u2018", "`", "\u00b4", "\u00ad", "\u200b", "\u200d", "\ufe0f"}


def fold(word: str) -> str:
    """The folded form of one token: lower case, æ/ø/å and their ASCII spellings onto one form
    ("død", "doed", "dod" → "dod"), accents dropped, runs of three or more identical letters
    collapsed ("ikkkke" → "ikke"), apostrophes dropped ("ik'" → "ik")."""
    word = _REPEATED_DANISH.sub(r"\1", unicodedata.normalize("NFKC", word).lower())
    out = []
    for char in word:
        if char in _DROP:
            continue
        if char in DANISH_LETTERS:
            out.append(DANISH_LETTERS[char])
        elif char.isalpha() and not char.isascii():
            out.append(strip_accent(char))
        else:
            out.append(char)
    folded = _REPEATS.sub(r"\1\1", "".join(out))
    folded = _DIGRAPHS.sub(lambda m: _DIGRAPH_TO[m.group(0)], folded)
    return folded or word
