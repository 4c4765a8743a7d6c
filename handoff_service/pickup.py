"""Short pickup codes: how a young person comes back to a conversation from any device.

A code is 10 characters from a 30-character alphabet without look-alikes (no 0, O, 1, I, L
or U), shown in groups as ``K7QM-3XPD-9T``: 30**10 is about 5.9e14 codes (49 bits),
so guessing one of many thousand live codes at the rate limit (see ratelimit.py) would take
lifetimes. Only a keyed hash is stored (HMAC-SHA256 with a key derived from SECRET_KEY), so a
copy of the database alone does not let anyone try codes offline; changing SECRET_KEY makes the
existing codes unusable (the long token still works).

Typing is forgiving: case, spaces, dashes and other separators do not matter.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0 O 1 I L U: nothing to mistake for another
CODE_LENGTH = 10
GROUPS = (4, 4, 2)
_SEPARATORS = re.compile(r"[\s\-_.·–—]+")


def new_pickup_code() -> str:
    """A fresh code in display form, e.g. 'K7QM-3XPD-9T'."""
    return display_form("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def display_form(code: str) -> str:
    parts, start = [], 0
    for size in GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(parts)


def normalise_pickup_code(typed: str) -> str | None:
    """The code's 10 characters as typed in any case and grouping, or None if it cannot be one."""
    compact = _SEPARATORS.sub("", typed.strip()).upper()
    if len(compact) != CODE_LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return compact


def hash_pickup_code(code: str, secret_key: str) -> str:
    """Keyed hash of a normalised code; the code itself is never stored."""
    key = hmac.new(secret_key.encode(), b"pickup-code-v1", hashlib.sha256).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()
