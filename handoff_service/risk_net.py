"""The service's own copy of the crisis safety net: the bot's risk lexicon, run on every message.

It catches danger when Rasa is down or the classifier misses, so crisis handling never rests on
the classifier alone.
"""

from __future__ import annotations

from functools import lru_cache

from bot.components.risk_lexicon import RiskLexicon, RiskMatch, default_lexicon_path


@lru_cache
def _lexicon() -> RiskLexicon:
    return RiskLexicon.from_yaml(default_lexicon_path())


def load_risk_net() -> None:
    """Load at start-up so a broken lexicon stops the service instead of failing silently."""
    _lexicon()


def risk_match(text: str) -> RiskMatch | None:
    return _lexicon().match(text)
