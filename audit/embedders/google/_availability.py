"""Whether Gemini / Vertex AI can be called from here, and what they accept.

Checks that Google's client is installed and where credentials would come from
(environment variable names and the ADC file, never their values; no metadata-server
probe). Named by the ``gemini`` and ``vertex`` entries of :data:`audit.embedders.EMBEDDERS`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from audit.embedders.google import _limits as g

__all__ = [
    "adc_source",
    "gemini_availability",
    "gemini_capabilities",
    "vertex_availability",
    "vertex_capabilities",
]


def adc_source() -> str | None:
    """Where Google Application Default Credentials would come from, without reading them."""
    env = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if env:
        return "GOOGLE_APPLICATION_CREDENTIALS" if Path(env).is_file() else None
    config = os.environ.get("CLOUDSDK_CONFIG") or str(Path.home() / ".config" / "gcloud")
    if (Path(config) / "application_default_credentials.json").is_file():
        return "gcloud ADC file"
    return None


def gemini_availability() -> tuple[bool, str]:
    """``(can_run, reason)`` for ``gemini:``: the client, then an API key or ADC."""
    if importlib.util.find_spec("google.genai") is None:
        return False, "google-genai not installed (pip install 'mme-audit[google]')"
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        if os.environ.get(var):
            return True, f"API key in {var}"
    adc = adc_source()
    if adc:
        return True, f"no API key; Vertex AI mode (?vertexai=1) can use {adc}"
    return False, "no GEMINI_API_KEY/GOOGLE_API_KEY and no Google ADC"


def vertex_availability() -> tuple[bool, str]:
    """``(can_run, reason)`` for ``vertex:``: the client, then ADC."""
    if importlib.util.find_spec("google.cloud.aiplatform") is None:
        return False, "google-cloud-aiplatform not installed (pip install 'mme-audit[google]')"
    adc = adc_source()
    if adc is None:
        return (
            False,
            "no Google Application Default Credentials (gcloud auth application-default login)",
        )
    return True, f"credentials from {adc}"


def gemini_capabilities() -> list[str]:
    """One line: the model, its token limit and its sizes."""
    return [
        f"{g.GEMINI_MODEL}: text ({g.GEMINI_TOKEN_LIMIT} tokens); dims: "
        f"{g.GEMINI_NATIVE_DIM} and any size down to {g.GEMINI_MIN_DIM} (recommended "
        f"{'/'.join(str(d) for d in g.GEMINI_RECOMMENDED_DIMS)})"
    ]


def vertex_capabilities() -> list[str]:
    """One line: the model, its modalities and its sizes."""
    return [
        f"{g.VERTEX_MM_MODEL}: text ({g.VERTEX_MM_TOKEN_LIMIT} tokens), image, video; "
        f"documents opt-in; dims: {'/'.join(str(d) for d in sorted(g.VERTEX_MM_DIMS))} "
        f"(video {g.VERTEX_MM_VIDEO_DIM} only)"
    ]
