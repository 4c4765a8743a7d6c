"""Rasa NLU component: lift the predicted intent when the risk lexicon sees danger.

Place it in ``config.yml`` AFTER the intent classifier and the FallbackClassifier::

    pipeline:
      - ...
      - name: DIETClassifier
      - name: FallbackClassifier
        threshold: 0.6
      - name: bot.components.risk_safety_net.RiskSafetyNet
        # lexicon_path: risk_lexicon.yml     # optional, default triage_core/risk_lexicon.yml

For every message it matches the text against the Danish risk lexicon
(:mod:`triage_core.lexicon`), as written and as the tokenizer's lemmas (spaCy's Danish
lookup lemmas, so inflections the lexicon does not list still match). When the
lexicon's intent carries a higher risk than the
predicted one (``nlu_fallback`` and every non-risk intent count as "normal"), the
prediction is replaced by the lexicon's intent with confidence 1.0, the old
prediction follows it in ``intent_ranking``, and the reason is recorded under
``risk_safety_net`` in the parse output.

It lowers a prediction in one case only: a short reassurance ("nej jeg er ikke i fare lige
nu", "ja jeg er safe nu, han er gået i seng", see :meth:`RiskLexicon.reassured`) that the
classifier read as a critical intent because of its danger words. Then the best non-critical
intent of the classifier's ranking is used (affirm/deny when the ranking has none), so the
young person is not trapped in the emergency script; the reason is recorded the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from triage_core.lexicon import RiskLexicon, default_lexicon_path, settle_reassurance
from triage_core.risk import risk_of_intent, risk_rank
from triage_core.taxonomy import FALLBACK_INTENT

logger = logging.getLogger(__name__)

#: Key under which the lift reason appears in the parse output (/model/parse, tracker).
SAFETY_NET_KEY = "risk_safety_net"
LEXICON_PATH_KEY = "lexicon_path"


def _resolve_lexicon_path(configured: str | None) -> Path:
    if not configured:
        return default_lexicon_path()
    path = Path(configured)
    if path.is_absolute() or path.exists():
        return path
    # Relative paths are tried from the working directory first, then beside the default lexicon.
    beside_bot = default_lexicon_path().parent / path
    return beside_bot if beside_bot.exists() else path


def _lemma_text(message: Message) -> str | None:
    """The message as the tokenizer's lemmas (spaCy's Danish lookup lemmas), if it has tokens."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    lemmas = [getattr(token, "lemma", None) or token.text for token in tokens]
    return " ".join(lemmas) if lemmas else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RiskSafetyNet(GraphComponent, IntentClassifier):
    """Overrides lower-risk intent predictions when the risk lexicon fires."""

    @classmethod
    def required_components(cls) -> list[type]:
        """An intent classifier must run before this component."""
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``lexicon_path``: the lexicon YAML; ``None`` means triage_core/risk_lexicon.yml."""
        return {LEXICON_PATH_KEY: None}

    def __init__(self, config: dict[str, Any], lexicon: RiskLexicon) -> None:
        self.component_config = config
        self.lexicon = lexicon

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskSafetyNet:
        """Loads the lexicon; a broken lexicon fails loudly at start-up, not at chat time."""
        path = _resolve_lexicon_path(config.get(LEXICON_PATH_KEY))
        lexicon = RiskLexicon.from_yaml(path)
        logger.info(
            "RiskSafetyNet loaded %d rules (lexicon version %s) from %s",
            len(lexicon.rules),
            lexicon.version,
            path,
        )
        return cls(config, lexicon)

    def process(self, messages: list[Message]) -> list[Message]:
        """Lifts each message's intent to the lexicon's intent when that is riskier."""
        for message in messages:
            self._lift(message)
        return messages

    def _lift(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text.strip():
            return
        lemmas = _lemma_text(message)
        match = self.lexicon.match(text, lemmas=lemmas)
        if match is None or match.risk != "critical":
            if self._settle_reassurance(message, text, lemmas):
                return
        if match is None:
            return

        predicted = message.get(INTENT) or {}
        predicted_name = predicted.get(INTENT_NAME_KEY)
        if risk_rank(match.risk) <= risk_rank(risk_of_intent(predicted_name)):
            return  # never lower, never replace an equally risky prediction

        new_intent = {INTENT_NAME_KEY: match.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [new_intent]
        seen = {match.intent}
        if predicted_name and predicted_name not in seen:
            ranking.append(dict(predicted))
            seen.add(predicted_name)
        for entry in message.get(INTENT_RANKING_KEY) or []:
            name = entry.get(INTENT_NAME_KEY)
            if name in seen:
                continue
            seen.add(name)
            ranking.append(entry)

        message.set(INTENT, new_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        message.set(
            SAFETY_NET_KEY,
            {
                "rule_id": match.rule_id,
                "matched": match.matched,
                "intent": match.intent,
                "risk": match.risk,
                "original_intent": predicted_name,
                "original_confidence": predicted.get(PREDICTED_CONFIDENCE_KEY),
                "lexicon_version": self.lexicon.version,
            },
            add_to_output=True,
        )
        # Only identifiers, never message text (anonymity rule).
        logger.debug(
            "RiskSafetyNet lifted %s -> %s (rule %s)",
            predicted_name,
            match.intent,
            match.rule_id,
        )

    def _settle_reassurance(self, message: Message, text: str, lemmas: str | None) -> bool:
        """Lowers a critical prediction of a short reassurance; True when it did."""
        predicted = message.get(INTENT) or {}
        predicted_name = predicted.get(INTENT_NAME_KEY)
        ranking = message.get(INTENT_RANKING_KEY) or []
        names = [e.get(INTENT_NAME_KEY) for e in ranking]
        classifier_top = next((n for n in names if n != FALLBACK_INTENT), None)
        critical = risk_of_intent(predicted_name) == "critical" or (
            predicted_name == FALLBACK_INTENT and risk_of_intent(classifier_top) == "critical"
        )
        if not critical or not self.lexicon.reassured(text, lemmas):
            return False
        settled = settle_reassurance([n for n in names if n], text)
        confidence = next(
            (e.get(PREDICTED_CONFIDENCE_KEY) for e in ranking if e.get(INTENT_NAME_KEY) == settled),
            None,
        )
        new_intent = {INTENT_NAME_KEY: settled, PREDICTED_CONFIDENCE_KEY: confidence or 1.0}
        message.set(INTENT, new_intent, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [new_intent] + [e for e in ranking if e.get(INTENT_NAME_KEY) != settled],
            add_to_output=True,
        )
        message.set(
            SAFETY_NET_KEY,
            {
                "rule_id": "reassurance",
                "matched": None,
                "intent": settled,
                "risk": "normal",
                "original_intent": predicted_name,
                "original_confidence": predicted.get(PREDICTED_CONFIDENCE_KEY),
                "lexicon_version": self.lexicon.version,
            },
            add_to_output=True,
        )
        logger.debug("RiskSafetyNet settled a reassurance %s -> %s", predicted_name, settled)
        return True
