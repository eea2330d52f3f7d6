"""``local`` vectors are a function of the item and the declared parameters (issue 23).

Thread counts and batch shapes reorder float sums (torch: up to 1.9e-7 between 1, 2 and 4
threads or batches of 1, 7 and 24 items, measured before the fix), so the embedder pins
its threads and gives each item its own forward pass; what it pins is in the fingerprint.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from audit.datasets import load_dataset
from audit.embedders.local import LocalEmbedder
from audit.embedders.local._audio import SpeechTranscriber
from audit.embedders.local._embedder import load_minilm
from audit.embedders.local._media_paths import MediaOptions
from audit.items import text_item


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    emb = LocalEmbedder()
    emb.progress = False
    return emb


def _items():
    emoji = load_dataset("builtin:emoji-professions")
    passages = load_dataset("builtin:passages")
    return [*emoji.corpus[:6], *emoji.queries[:6], *passages.corpus[:6]]


def test_vectors_do_not_depend_on_threads_or_batch(local: LocalEmbedder) -> None:
    items = _items()
    assert {it.modality for it in items} == {"text", "image"}
    saved = torch.get_num_threads()
    runs = []
    for threads in (1, 3):
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            runs.append(local.embed(items))
            runs.append(np.concatenate([local.embed(items[:5]), local.embed(items[5:])]))
            runs.append(np.concatenate([local.embed([it]) for it in items[::-1]])[::-1])
        assert torch.get_num_threads() == threads  # the caller's count is restored
    torch.set_num_threads(saved)
    for other in runs[1:]:
        assert np.array_equal(other, runs[0])


def test_text_vector_is_minilm_alone_on_one_thread(local: LocalEmbedder) -> None:
    """Bitwise the raw sentence-transformers vector of the text alone, on one thread, after
    the row-wise float32 L2 normalisation every backend's vectors get."""
    texts = [it for it in _items() if it.modality == "text"]
    raw, _ = load_minilm()
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone = [raw.encode([str(it.content)], convert_to_numpy=True)[0] for it in texts]
    finally:
        torch.set_num_threads(saved)
    expected = np.stack(alone).astype(np.float32)
    expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.array_equal(local.embed(texts), expected)


def test_pinned_settings_are_in_the_fingerprint(local: LocalEmbedder) -> None:
    assert local.params["torch_threads"] == 1 and local.params["asr_cpu_threads"] == 1
    assert local.params["asr_blas_threads"] == 1 and local.params["forward_batch"] == 1
    prints = {
        local.fingerprint,
        LocalEmbedder(torch_threads=2).fingerprint,
        LocalEmbedder(media=MediaOptions(asr_cpu_threads=4)).fingerprint,
        LocalEmbedder(text_batch_size=32).fingerprint,  # the class-name batches
    }
    assert len(prints) == 4
    assert LocalEmbedder().fingerprint == local.fingerprint  # and nothing host-dependent


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_thread_counts_must_be_positive_ints(bad: object) -> None:
    with pytest.raises(ValueError, match="torch_threads"):
        LocalEmbedder(torch_threads=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cpu_threads"):
        SpeechTranscriber(cpu_threads=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="asr_cpu_threads"):
        MediaOptions(asr_cpu_threads=bad)  # type: ignore[arg-type]


def test_transcription_does_not_unpin_torch() -> None:
    """CTranslate2 sets the OpenMP thread count that ``torch.get_num_threads`` reads, not
    MKL's, which the matmuls use: after a transcription under 3 threads, the transcript's
    vector must still be the 1-thread one (it was 1.2e-7 off for this clip)."""
    clip = next(it for it in load_dataset("builtin:speech").corpus if it.id == "zen02.en-us-m3")
    saved = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        emb = LocalEmbedder()
        emb.progress = False
        heard = emb.transcribe(clip)
        assert len(heard.split()) >= 8  # long enough for a multi-threaded matmul
        got = emb.embed([text_item("heard", heard)])[0]
        raw, _ = load_minilm()
        torch.set_num_threads(1)
        alone = raw.encode([heard], convert_to_numpy=True)[0].astype(np.float32)
    finally:
        torch.set_num_threads(saved)
    assert np.array_equal(got, alone / np.linalg.norm(alone))
