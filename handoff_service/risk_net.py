"""The service's crisis safety net: the shared risk lexicon (triage_core), run on every message.

The same lexicon and rules the bot's RiskSafetyNet reads, loaded in the service's own process.
It catches danger when Rasa is down or the classifier misses, so crisis handling never rests on
the classifier alone.
"""

from __future__ import annotations

from functools import lru_cache

from triage_core.lexicon import RiskLexicon, RiskMatch, default_lexicon_path


@lru_cache
def _lexicon() -> RiskLexicon:
    return RiskLexicon.from_yaml(default_lexicon_path())


def load_risk_net() -> None:
    """Load at start-up so a broken lexicon stops the service instead of failing silently."""
    _lexicon()


def risk_match(text: str) -> RiskMatch | None:
    return _lexicon().match(text)
