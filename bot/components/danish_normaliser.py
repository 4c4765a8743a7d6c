"""DanishTokenNormaliser: folds the spellings young people use onto one form before featurizing.

Runs after the tokenizer (SpacyTokenizer keeps spaCy's Danish lookup lemma on every token) and
rewrites each token's *lemma*, which is what the CountVectorsFeaturizers read with
``use_lemma: true``. The token text and offsets are left alone, so entities keep their spans.

Folding (:func:`triage_core.danish.fold`, built on the letter tables the risk lexicon uses too):
lower case, æ/ø/å and their ASCII spellings (ae/oe/aa, a/o) onto one form ("død", "doed", "dod"
→ "dod"; "være", "vaere", "vare" → "vare"), accents dropped, runs of three or more identical
letters collapsed ("ikkkke" → "ikke"), apostrophes dropped ("ik'" → "ik").
The message text itself is not changed; the risk lexicon does its own normalisation.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from triage_core.danish import fold

__all__ = ["DanishTokenNormaliser", "fold"]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class DanishTokenNormaliser(GraphComponent):
    """Rewrites token lemmas to their folded form (see :func:`fold`)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # fold_text: also fold the token text (read by featurizers with use_lemma: false and
        # by LexicalSyntacticFeaturizer); entity values are cut from the message by offsets,
        # so they keep the young person's spelling either way.
        return {"fold_text": False}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config
        self.fold_text = bool(config.get("fold_text", False))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DanishTokenNormaliser:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalise(message)
        return messages

    def _normalise(self, message: Message) -> None:
        for token in message.get(TOKENS_NAMES[TEXT]) or []:
            token.lemma = fold(token.lemma or token.text)
            if self.fold_text:
                token.text = fold(token.text)
