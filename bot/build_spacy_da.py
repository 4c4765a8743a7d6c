"""Builds the offline Danish spaCy pipeline the NLU uses: blank "da" plus the lookup lemmatizer.

No trained Danish spaCy pipeline is on the package registries, but spaCy's Danish tokenizer,
stop words and spacy-lookups-data's lemma table are, so the pipeline is assembled at setup time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy


def build(target: Path) -> None:
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)


if __name__ == "__main__":
    build(Path(sys.argv[1]))
