import hashlib

import pytest

from audit.weights import WeightsError, verify_weights


def test_verify_accepts_pinned_and_refuses_mismatch(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"weights" * 1000)
    good = hashlib.sha256(f.read_bytes()).hexdigest()
    assert verify_weights(f, good) == good
    assert verify_weights(f, None) == good
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        verify_weights(f, "0" * 64)
    with pytest.raises(WeightsError, match="not found"):
        verify_weights(tmp_path / "missing.bin", good)


def test_local_embedder_refuses_tampered_weights(tmp_path, monkeypatch):
    """A MiniLM directory whose safetensors differs from the pinned hash must not load."""
    import shutil

    from audit.embedders.local import _embedder as local

    src = local.minilm_dir()
    dst = tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    (dst / "model.safetensors").write_bytes(b"not the real weights")
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        local.load_minilm(dst)
    monkeypatch.setattr(local, "EFFICIENTNET_SHA256", "f" * 64)
    emb = local.LocalEmbedder()
    emb._text_model = object()  # skip text loading; image head must still verify
    emb._class_embeddings = lambda: None  # type: ignore[method-assign]
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        _ = emb.image_head
