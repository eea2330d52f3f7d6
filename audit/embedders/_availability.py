"""Whether each embedder backend can run on this machine now (for ``audit list embedders``).

Nothing here loads a model or sends a request: ``local`` checks its pinned weight files
by sha256, ``bedrock`` asks boto3's standard credential chain whether it resolves (the
credentials themselves are never returned, logged or printed), ``gemini``/``vertex`` check
that Google's client is installed and where credentials would come from (environment
variable names and the ADC file, never their values; no metadata-server probe), and
``st``/``hf`` depend on a folder or hub id given at run time.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["availability"]


def availability(name: str) -> tuple[bool, str]:
    """``(can_run, reason)`` for the backend registered as ``name``.

    Parameters
    ----------
    name : str
        A registered backend: ``local``, ``bedrock``, ``st`` or ``hf``.

    Returns
    -------
    tuple of (bool, str)
        Whether it can run here now, and why in a few words.

    Raises
    ------
    ValueError
        For a name that is not a backend.
    """
    if name == "local":
        return _local()
    if name == "bedrock":
        return _bedrock()
    if name == "gemini":
        return _gemini()
    if name == "vertex":
        return _vertex()
    if name in ("st", "hf"):
        return True, "needs a local folder or hub access"
    from audit.embedders import EMBEDDERS

    if name in EMBEDDERS:  # registered by a plugin or a test: nothing known to check
        return True, "no availability check for this backend"
    raise ValueError(f"unknown embedder backend {name!r} (known: {', '.join(EMBEDDERS.names())})")


def _local_files() -> list[tuple[str, Path, str]]:
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


def _local() -> tuple[bool, str]:
    from audit.weights import WeightsError, verify_weights

    try:
        files = _local_files()
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


def _bedrock() -> tuple[bool, str]:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError
    except ImportError:
        return False, "boto3 not installed (pip install boto3)"
    try:
        credentials = boto3.session.Session().get_credentials()
    except BotoCoreError as exc:  # e.g. a broken profile; the message holds no secret
        return False, f"AWS configuration error: {type(exc).__name__}"
    if credentials is None:
        return False, "no AWS credentials"
    # ``method`` names the provider (env, shared-credentials-file, iam-role, ...), never a key
    return True, f"credentials found ({credentials.method})"


def _adc_source() -> str | None:
    """Where Google Application Default Credentials would come from, without reading them."""
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if env:
        return "GOOGLE_APPLICATION_CREDENTIALS" if Path(env).is_file() else None
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    if (Path(config) / "application_default_credentials.json").is_file():
        return "gcloud ADC file"
    return None


def _gemini() -> tuple[bool, str]:
    if importlib.util.find_spec("google.genai") is None:
        return False, "google-genai not installed (pip install 'mme-audit[google]')"
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        if os.environ.get(var):
            return True, f"API key in {var}"
    adc = _adc_source()
    if adc:
        return True, f"no API key; Vertex AI mode (?vertexai=1) can use {adc}"
    return False, "no GEMINI_API_KEY/GOOGLE_API_KEY and no Google ADC"


def _vertex() -> tuple[bool, str]:
    if importlib.util.find_spec("google.cloud.aiplatform") is None:
        return False, "google-cloud-aiplatform not installed (pip install 'mme-audit[google]')"
    adc = _adc_source()
    if adc is None:
        return (
            False,
            "no Google Application Default Credentials (gcloud auth application-default login)",
        )
    return True, f"credentials from {adc}"
