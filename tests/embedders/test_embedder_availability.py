"""availability(): pinned-hash checks for ``local``, boto3's credential chain for ``bedrock``."""

from __future__ import annotations

import hashlib

import pytest

from audit.embedders._availability import availability
from audit.embedders.local import _availability


def test_local_reports_missing_and_mismatched_files(tmp_path, monkeypatch):
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(b"weights")
    bad.write_bytes(b"tampered")
    files = [
        ("Good", good, hashlib.sha256(b"weights").hexdigest()),
        ("Bad", bad, hashlib.sha256(b"weights").hexdigest()),
        ("Gone", tmp_path / "gone.bin", "0" * 64),
    ]
    monkeypatch.setattr(_availability, "local_files", lambda: files)
    assert availability("local") == (False, "missing: Gone; hash mismatch: Bad")
    monkeypatch.setattr(_availability, "local_files", lambda: files[:1])
    assert availability("local") == (True, "weights present (1 files, hashes match)")


def test_local_with_the_installed_weights():
    ok, reason = availability("local")
    assert ok, reason  # the project's own install ships and pins every file


def _no_aws(monkeypatch, tmp_path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_bedrock_follows_the_credential_chain_without_revealing_it(monkeypatch, tmp_path):
    _no_aws(monkeypatch, tmp_path)
    assert availability("bedrock") == (False, "no AWS credentials")
    secret = "sEcReTvAlUe/ShouldNeverAppear0123456789"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAAVAILABILITY0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    ok, reason = availability("bedrock")
    assert (ok, reason) == (True, "credentials found (env)")
    # a credentials file is found the same way
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[default]\naws_access_key_id = AKIAFILE0001\naws_secret_access_key = {secret}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    assert availability("bedrock") == (True, "credentials found (shared-credentials-file)")


def test_hub_backends_and_unknown_names():
    assert availability("st") == (True, "needs a local folder or hub access")
    assert availability("hf") == (True, "needs a local folder or hub access")
    with pytest.raises(ValueError, match="unknown embedder backend 'nope'"):
        availability("nope")


def test_a_plugin_backend_is_listed_without_a_check(monkeypatch):
    from audit.embedders import EMBEDDERS, EmbedderEntry
    from audit.registry import Registry

    registry: Registry[EmbedderEntry] = Registry("embedder")
    for name in EMBEDDERS.names():
        registry.register(name, EMBEDDERS.get(name))
    registry.register("plugin", EmbedderEntry("somewhere:make", "a third-party backend"))
    monkeypatch.setattr("audit.embedders.EMBEDDERS", registry)
    assert availability("plugin") == (True, "no availability check for this backend")
    with pytest.raises(ValueError, match="unknown embedder backend 'nope'"):
        availability("nope")


def _no_google(monkeypatch, tmp_path) -> None:
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


def test_gemini_needs_a_key_or_adc_and_never_shows_it(monkeypatch, tmp_path):
    _no_google(monkeypatch, tmp_path)
    assert availability("gemini") == (False, "no GEMINI_API_KEY/GOOGLE_API_KEY and no Google ADC")
    secret = "AIzaSyNeverPrintThisKey0123456789"
    monkeypatch.setenv("GOOGLE_API_KEY", secret)
    assert availability("gemini") == (True, "API key in GOOGLE_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", secret)  # the SDK prefers GEMINI_API_KEY too
    ok, reason = availability("gemini")
    assert ok and reason == "API key in GEMINI_API_KEY" and secret not in reason


def test_vertex_looks_for_adc_without_reading_it(monkeypatch, tmp_path):
    _no_google(monkeypatch, tmp_path)
    ok, reason = availability("vertex")
    assert not ok and "application-default login" in reason
    adc = tmp_path / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir()
    adc.write_text('{"type": "authorized_user", "refresh_token": "never-shown"}')
    assert availability("vertex") == (True, "credentials from gcloud ADC file")
    key = tmp_path / "sa.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    assert availability("vertex")[0] is False  # the named file does not exist
    key.write_text("{}")
    assert availability("vertex") == (True, "credentials from GOOGLE_APPLICATION_CREDENTIALS")


def test_a_backend_entry_names_its_own_checks(monkeypatch):
    """availability/capabilities come from the hooks the registry entry names, no name list."""
    from audit.embedders import EMBEDDERS, EmbedderEntry
    from audit.embedders._availability import capabilities
    from audit.registry import Registry

    registry: Registry[EmbedderEntry] = Registry("embedder")
    registry.register(
        "plugin",
        EmbedderEntry(
            "somewhere:make",
            "a third-party backend",
            availability="audit.embedders.google._availability:adc_source",
            capabilities="audit.embedders.local._availability:capabilities",
        ),
    )
    registry.register("bare", EmbedderEntry("somewhere:make", "no hooks"))
    monkeypatch.setattr("audit.embedders.EMBEDDERS", registry)
    monkeypatch.setenv("CLOUDSDK_CONFIG", "/nonexistent")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    assert availability("plugin") is None  # the named hook's own answer, unchanged
    assert capabilities("plugin") == [
        "modalities: text, image, document, video, audio; dims: 384 (no MRL)"
    ]
    assert capabilities("bare") == ["modalities and dims: depend on the model"]
    assert "local" in EMBEDDERS  # the real registry is untouched
