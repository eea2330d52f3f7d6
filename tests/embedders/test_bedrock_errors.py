"""BedrockEmbedder failure handling against the stand-in: retries, refusals, bad vectors,
size limits, secrets, and the stand-in's own strictness (so body tests can fail)."""

from __future__ import annotations

import io
import json
import logging

import numpy as np
import pytest
from bedrock_standin import (
    FAKE_KEY_ID,
    FAKE_SECRET,
    FAKE_TOKEN,
    NOVA,
    TITAN_MM,
    TITAN_TEXT,
    standin_env,
)
from PIL import Image

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.embedders.bedrock._transport import BedrockCallError, RetryPolicy, safe_endpoint
from audit.items import BadItemsError, Item, text_item

FAST = "base_delay=0.001&max_delay=0.005"


@pytest.fixture
def standin(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


def make(options: str = "", model: str = NOVA) -> BedrockEmbedder:
    emb = from_spec(f"{model}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


@pytest.mark.parametrize(
    "kind", ["throttle", "unavailable", "internal", "model_timeout", "not_ready"]
)
def test_transient_errors_are_retried_until_success(standin, kind, caplog):
    standin.inject(kind, times=2)
    emb = make("max_attempts=4")
    with caplog.at_level(logging.INFO, logger="audit.embedders.bedrock._transport"):
        got = emb.embed([text_item("q1", "hello")])
    assert len(standin.requests) == 3  # two failures, then the answer
    assert caplog.text.count("for item 'q1'; retry") == 2
    again = make().embed([text_item("q1", "hello")])  # no fault left: same vector
    np.testing.assert_array_equal(got, again)


def test_error_type_in_body_is_understood(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path, error_style="body") as standin:
        standin.inject("throttle", times=1)
        make("max_attempts=2").embed([text_item("q1", "hello")])
        assert len(standin.requests) == 2
        standin.inject("validation", times=5)
        with pytest.raises(BedrockCallError, match="ValidationException"):
            make("max_attempts=5").embed([text_item("q2", "x")])
        assert len(standin.requests) == 3


def test_retries_are_bounded_and_botocore_does_not_retry_on_its_own(standin):
    standin.inject("throttle", times=10)
    emb = make("max_attempts=3")
    with pytest.raises(BedrockCallError) as info:
        emb.embed([text_item("q1", "hello")])
    # Exactly our 3 attempts reached the wire: botocore's own retries are off.
    assert len(standin.requests) == 3
    (failure,) = info.value.failures
    assert (failure.item_id, failure.code, failure.attempts) == ("q1", "ThrottlingException", 3)
    assert "q1: ThrottlingException (still failing after 3 attempt(s)" in str(info.value)


def test_total_time_budget_stops_retries(standin):
    standin.inject("unavailable", times=10)
    emb = make("max_attempts=10&max_total_time=0")
    with pytest.raises(BedrockCallError, match="retry budget of 0s spent"):
        emb.embed([text_item("q1", "hello")])
    assert len(standin.requests) == 1


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("validation", "ValidationException"),
        ("access_denied", "AccessDeniedException"),
        ("model_error", "ModelErrorException"),
    ],
)
def test_client_errors_are_not_retried_and_name_the_items(standin, kind, code):
    standin.inject(kind, times=10, match="bad")
    emb = make("max_attempts=5")
    items = [text_item("ok", "fine"), text_item("b1", "bad one"), text_item("b2", "bad two")]
    with pytest.raises(BedrockCallError) as info:
        emb.embed(items)
    assert len(standin.requests) == 3  # one each, no retry
    assert sorted(f.item_id for f in info.value.failures) == ["b1", "b2"]
    assert all(f.code == code and not f.retryable for f in info.value.failures)
    assert f"b1: {code} (not retried)" in str(info.value)


def test_real_validation_error_is_not_retried(standin):
    emb = make("truncation=NONE&max_attempts=5")
    with pytest.raises(BedrockCallError, match=r"too-long: ValidationException.*truncationMode"):
        emb.embed([text_item("too-long", "x" * 9000)])
    assert len(standin.requests) == 1


def test_read_timeout_is_retried(standin):
    standin.inject("slow", seconds=1.0)
    emb = make("read_timeout=0.2&max_attempts=3")
    emb.embed([text_item("q1", "hello")])
    assert len(standin.requests) == 2


@pytest.mark.parametrize("kind", ["nan", "null", "wrong_length"])
def test_unusable_vectors_raise_embedding_error_naming_the_item(standin, kind):
    standin.inject(kind, match="broken")
    emb = make()
    with pytest.raises(EmbeddingError, match="broken-item") as info:
        emb.embed([text_item("good-item", "fine"), text_item("broken-item", "broken text")])
    assert "good-item" not in str(info.value)
    assert not isinstance(info.value, BedrockCallError)


def test_item_over_the_inline_limit_is_refused_before_sending(standin):
    noise = np.random.default_rng(0).integers(0, 256, (2600, 2600, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) * 4 / 3 > 25_000_000
    with pytest.raises(BadItemsError) as info:
        make().embed([Item("huge-photo", "image", buf.getvalue()), text_item("t", "fine")])
    (error,) = info.value.errors
    assert error.item_id == "huge-photo"
    assert "over the 25,000,000-byte inline limit" in error.reason
    assert standin.requests == []


def test_credentials_never_reach_logs_errors_or_describe(standin, caplog):
    standin.inject("throttle", times=1)
    standin.inject("access_denied", match="denied")
    emb = make("max_attempts=3")
    with caplog.at_level(logging.DEBUG):  # botocore's DEBUG logs print signed requests
        emb.embed([text_item("a", "hello")])
        with pytest.raises(BedrockCallError) as info:
            emb.embed([text_item("b", "denied text")])
    assert "Sending http request" in caplog.text  # botocore did log the requests
    shown = [caplog.text, str(info.value), repr(info.value), json.dumps(emb.describe()), repr(emb)]
    for secret in (FAKE_SECRET, FAKE_TOKEN, FAKE_KEY_ID):
        assert not any(secret in text for text in shown), secret
    with pytest.raises(ValueError, match="looks like a credential") as spec_error:
        from_spec(f"{NOVA}?aws_secret_access_key={FAKE_SECRET}")
    assert FAKE_SECRET not in str(spec_error.value)
    with pytest.raises(ValueError) as unknown:
        from_spec(f"{NOVA}?sekret={FAKE_SECRET}")
    assert FAKE_SECRET not in str(unknown.value)


def test_safe_endpoint_strips_user_info_and_query():
    assert safe_endpoint("https://user:pw@host.example:8443/p?x=1") == "https://host.example:8443/p"
    assert safe_endpoint(None) is None


def test_retry_policy_backoff_is_full_jitter_and_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    draws = np.array([[policy.backoff(n) for _ in range(400)] for n in (1, 2, 3, 6)])
    assert (draws >= 0).all()
    assert (draws.max(axis=1) <= [1.0, 2.0, 4.0, 5.0]).all()
    # Uniform on [0, cap]: the mean is near cap / 2 (400 draws: sd of mean ~ cap * 0.014).
    np.testing.assert_allclose(draws.mean(axis=1), [0.5, 1.0, 2.0, 2.5], rtol=0.15)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def _nova(params: dict, **top) -> dict:
    body = {"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": params}
    return {**body, **top}


TEXT = {"truncationMode": "END", "value": "hi"}
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (NOVA, _nova({"embeddingPurpose": "GENERIC_INDEX", "text": TEXT}, extra=1)),
        (NOVA, _nova({"text": TEXT})),
        (NOVA, _nova({"embeddingPurpose": "SEARCH", "text": TEXT})),
        (
            NOVA,
            _nova({"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": 512, "text": TEXT}),
        ),
        (NOVA, _nova({"embeddingPurpose": "GENERIC_INDEX", "text": {"value": "hi"}})),
        (
            NOVA,
            _nova(
                {
                    "embeddingPurpose": "GENERIC_INDEX",
                    "text": TEXT,
                    "image": {"format": "png", "source": {"bytes": PNG_B64}},
                }
            ),
        ),
        (
            NOVA,
            _nova(
                {
                    "embeddingPurpose": "GENERIC_INDEX",
                    "image": {"format": "jpeg", "source": {"bytes": PNG_B64}},
                }
            ),
        ),
        (TITAN_TEXT, {"inputText": "hi", "dimensions": 384}),
        (TITAN_TEXT, {"text": "hi"}),
        (TITAN_MM, {"inputText": "hi", "embeddingConfig": {"outputEmbeddingLength": 512}}),
    ],
    ids=[
        "unknown-field",
        "missing-purpose",
        "wrong-purpose",
        "nova-dim-512",
        "missing-truncation",
        "text-and-image",
        "format-mismatch",
        "titan-text-dim",
        "titan-text-field",
        "titan-mm-dim",
    ],
)
def test_standin_rejects_bodies_the_service_would_reject(standin, model, body):
    import boto3

    client = boto3.client("bedrock-runtime")
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json")
    good = _nova({"embeddingPurpose": "GENERIC_INDEX", "text": TEXT})
    answer = json.loads(client.invoke_model(modelId=NOVA, body=json.dumps(good))["body"].read())
    assert len(answer["embeddings"][0]["embedding"]) == 3072
