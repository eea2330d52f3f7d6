"""The offline sentence corpus: deterministic, traceable to its file, split disjointly."""

from __future__ import annotations

import hashlib
import platform
import pydoc_data.topics as topics
import re
from pathlib import Path

import pytest

from redteam.privacy._corpus import DOCUMENTED_SHA256, python_doc_sentences, split_sentences


def test_sentences_come_from_the_hashed_file() -> None:
    corpus = python_doc_sentences()
    assert corpus == python_doc_sentences()  # deterministic
    digest = hashlib.sha256(Path(topics.__file__).read_bytes()).hexdigest()
    assert corpus.source_sha256 == digest
    assert corpus.documented == (DOCUMENTED_SHA256.get(platform.python_version()) == digest)
    joined = "\n".join(corpus.sentences).encode("utf-8")
    assert corpus.sentences_sha256 == hashlib.sha256(joined).hexdigest()
    assert len(corpus.sentences) > 1000 and len(set(corpus.sentences)) == len(corpus.sentences)
    # Every sentence is text of the reference, up to line breaks.
    flat = " ".join(re.sub(r"\s+", " ", t) for t in topics.topics.values())
    assert all(s in flat for s in corpus.sentences)
    assert all(6 <= len(s.split()) <= 30 for s in corpus.sentences)


def test_split_is_disjoint_and_seeded() -> None:
    sentences = [f"sentence {i}" for i in range(10)] + ["sentence 3"]
    train, test = split_sentences(sentences, 0.3, seed=4)
    assert len(test) == 3 and len(train) == 7
    assert not set(train) & set(test) and set(train) | set(test) == set(sentences)
    assert (train, test) == split_sentences(sentences, 0.3, seed=4)
    with pytest.raises(ValueError, match=r"test_fraction=1\.0"):
        split_sentences(sentences, 1.0, seed=0)
