"""Whether the local default can run here (pinned weight files, by sha256) and what it accepts.

Named by the ``local`` entry of :data:`audit.embedders.EMBEDDERS`; loads no model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["availability", "capabilities", "local_files"]


def local_files() -> list[tuple[str, Path, str]]:
    """``(label, path, pinned sha256)`` of every weight file the local default loads."""
    from audit.embedders.local import _audio
    from audit.embedders.local import _embedder as local

    files = [
        ("MiniLM", local.minilm_dir() / "model.safetensors", local.MINILM_SHA256),
        ("EfficientNet-Lite0", local.efficientnet_file(), local.EFFICIENTNET_SHA256),
        ("Silero VAD", _audio.vad_file(), _audio.VAD_SHA256),
    ]
    whisper = _audio.whisper_dir()
    files += [(f"Whisper {k}", whisper / k, v) for k, v in _audio.WHISPER_SHA256.items()]
    return files


def availability() -> tuple[bool, str]:
    """``(can_run, reason)``: every pinned weight file present with its sha256."""
    from audit.weights import WeightsError, verify_weights

    try:
        files = local_files()
    except ImportError as exc:  # a weights package is not installed
        return False, f"weights package missing: {exc}"
    missing: list[str] = []
    mismatched: list[str] = []
    for label, path, sha in files:
        if not Path(path).is_file():
            missing.append(label)
            continue
        try:
            verify_weights(path, sha)
        except WeightsError:
            mismatched.append(label)
    problems = []
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if mismatched:
        problems.append(f"hash mismatch: {', '.join(mismatched)}")
    if problems:
        return False, "; ".join(problems)
    return True, f"weights present ({len(files)} files, hashes match)"


def capabilities() -> list[str]:
    """One line: the modalities and the size."""
    return ["modalities: text, image, document, video, audio; dims: 384 (no MRL)"]
