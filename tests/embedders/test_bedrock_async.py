"""S3 sources and Nova's async segmented path against the stand-in and a moto S3 server.

Expected vectors are computed from the stand-in's hash-seeded generator: for S3 sources
the same content as the inline source; for segmented jobs the mean of the unit segment
vectors the documentation says the job produces (segments cut by hand here).
"""

from __future__ import annotations

import base64
import io
import math
import wave

import numpy as np
import pytest
from bedrock_async_standin import s3_standin
from bedrock_standin import NOVA, reference_vector, standin_env
from PIL import Image

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.items import BadItemsError, Item, text_item

BUCKET = "mme-audit-test"
FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005&poll_interval=0.01"
OUT = f"s3_output=s3://{BUCKET}/jobs"


@pytest.fixture
def env(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as standin, s3_standin(monkeypatch, standin) as s3:
        yield standin, s3


def make(options: str = "") -> BedrockEmbedder:
    emb = from_spec(f"{NOVA}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def unit(model_purpose: str, content: str, dim: int = 3072) -> np.ndarray:
    return reference_vector(NOVA, model_purpose, content, dim)


def pooled(vectors: list[np.ndarray]) -> np.ndarray:
    mean = np.mean(vectors, axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (9, 7), "teal").save(buf, format="PNG")
    return buf.getvalue()


def wav(seconds: float, rate: int = 2000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes([128]) * int(seconds * rate))
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_s3_items_send_s3location_and_match_the_inline_vector(env):
    standin, s3 = env
    image, clip = png(), wav(2.0)
    s3.put_object(Bucket=BUCKET, Key="media/cat.png", Body=image)
    s3.put_object(Bucket=BUCKET, Key="media/clip.wav", Body=clip)
    emb = make()
    items = [
        Item("local-img", "image", image),
        Item("s3-img", "image", f"s3://{BUCKET}/media/cat.png"),
        Item("s3-clip", "audio", f"s3://{BUCKET}/media/clip.wav"),
    ]
    got = emb.embed(items)
    sources = [
        next(v for k, v in b["singleEmbeddingParams"].items() if k in ("image", "audio"))
        for b in standin.bodies()
    ]
    img_uri = f"s3://{BUCKET}/media/cat.png"
    assert {"format": "png", "detailLevel": "STANDARD_IMAGE",
            "source": {"s3Location": {"uri": img_uri}}} in sources  # fmt: skip
    assert {
        "format": "wav",
        "source": {"s3Location": {"uri": f"s3://{BUCKET}/media/clip.wav"}},
    } in (sources)
    expected_img = unit("GENERIC_INDEX", f"STANDARD_IMAGE:{b64(image)}")
    np.testing.assert_allclose(got[0], expected_img, atol=1e-6)
    np.testing.assert_allclose(got[1], expected_img, atol=1e-6)
    np.testing.assert_allclose(got[2], unit("GENERIC_INDEX", b64(clip)), atol=1e-6)
    assert emb.usage["images"] == 2 and emb.usage["requests"] == 3


def test_bad_s3_items_are_refused_before_sending(env):
    standin, _ = env
    emb = make()
    items = [
        Item("bmp", "image", f"s3://{BUCKET}/x.bmp"),
        Item("bucket", "image", "s3://Bad_Bucket/x.png"),
        Item("pdf", "document", f"s3://{BUCKET}/x.pdf"),
        Item("fine", "image", f"s3://{BUCKET}/x.png"),
    ]
    with pytest.raises(BadItemsError) as info:
        emb.embed(items)
    assert {e.item_id for e in info.value.errors} == {"bmp", "bucket", "pdf"}
    assert standin.requests == []


def test_missing_s3_object_is_a_validation_error_naming_the_item(env):
    standin, _ = env
    with pytest.raises(EmbeddingError, match=r"ghost: ValidationException.*does not exist"):
        make().embed([Item("ghost", "image", f"s3://{BUCKET}/nope.png")])
    assert len(standin.requests) == 1  # validation errors are not retried


def test_long_audio_runs_a_segmented_job_and_pools_segments_by_mean(env):
    standin, s3 = env
    clip = wav(65.0)
    emb = make(OUT)
    got = emb.embed([Item("talk", "audio", clip), Item("short", "audio", wav(1.0))])
    (start,) = standin.async_handler.starts
    assert start["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/jobs"}}
    assert start["modelInput"] == {
        "schemaVersion": "nova-multimodal-embed-v1",
        "taskType": "SEGMENTED_EMBEDDING",
        "segmentedEmbeddingParams": {
            "embeddingPurpose": "GENERIC_INDEX",
            "embeddingDimension": 3072,
            "audio": {
                "format": "wav",
                "source": {"bytes": b64(clip)},
                "segmentationConfig": {"durationSeconds": 30},
            },
        },
    }
    n_segments = math.ceil(65 / 30)
    expected = pooled([unit("GENERIC_INDEX", f"seg{i}:{b64(clip)}") for i in range(n_segments)])
    np.testing.assert_allclose(got[0], expected, atol=1e-6)
    np.testing.assert_allclose(got[1], unit("GENERIC_INDEX", b64(wav(1.0))), atol=1e-6)
    usage = emb.usage
    # job completes on the third poll (polls_before_done=2)
    assert (usage["async_jobs"], usage["polls"], usage["requests"]) == (1, 3, 2)
    assert usage["media_seconds"] == pytest.approx(66.0)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="jobs/")["Contents"]]
    assert any(k.endswith("/embedding-audio.jsonl") for k in keys)


def test_always_mode_segments_text_by_max_length_chars(env):
    standin, _ = env
    text = "".join(chr(97 + i % 26) for i in range(2000))
    emb = make(f"{OUT}&async_mode=always&segment_chars=800&dim=256")
    got = emb.embed([text_item("essay", text)], purpose="query")
    params = standin.async_handler.starts[0]["modelInput"]["segmentedEmbeddingParams"]
    assert params["text"] == {
        "truncationMode": "END",
        "value": text,
        "segmentationConfig": {"maxLengthChars": 800},
    }
    assert params["embeddingPurpose"] == "GENERIC_RETRIEVAL"
    chunks = [text[0:800], text[800:1600], text[1600:2000]]
    expected = pooled([unit("GENERIC_RETRIEVAL", f"seg{i}:{c}", 256) for i, c in enumerate(chunks)])
    np.testing.assert_allclose(got[0], expected, atol=1e-6)


def test_failed_segment_names_the_item_and_the_reason(env):
    standin, _ = env
    standin.inject("segment_failure", match="SEGMENTED")
    with pytest.raises(EmbeddingError, match=r"'talk'.*segment 1: RAI_VIOLATION_INPUT_TEXT"):
        make(OUT).embed([Item("talk", "audio", wav(45.0))])


def test_failed_job_names_the_item_and_the_failure_message(env):
    standin, _ = env
    standin.inject("job_failed", match="SEGMENTED")
    with pytest.raises(EmbeddingError, match=r"'talk' failed: Internal error while processing"):
        make(OUT).embed([Item("talk", "audio", wav(45.0))])


def test_polling_is_bounded_by_async_timeout(env):
    standin, _ = env
    standin.async_handler.polls_before_done = 10_000
    emb = make(f"{OUT}&async_timeout=0.2")
    with pytest.raises(EmbeddingError, match=r"'talk' still InProgress after 0.2 s"):
        emb.embed([Item("talk", "audio", wav(45.0))])
    assert 1 <= emb.usage["polls"] < 30  # backoff: far fewer polls than 0.2 s / 10 ms


def test_throttled_start_is_retried_with_the_same_idempotency_token(env):
    standin, _ = env
    standin.inject("throttle", match="SEGMENTED")
    emb = make(OUT)
    emb.embed([Item("talk", "audio", wav(45.0))])
    # the throttled start is not recorded by AsyncJobs (fault answered first): one start
    assert len(standin.async_handler.starts) == 1
    usage = emb.usage
    assert (usage["requests"], usage["retries"], usage["throttles"]) == (2, 1, 1)


def test_async_needs_an_s3_output_and_nothing_is_sent_without_one(env):
    standin, _ = env
    with pytest.raises(ValueError, match=r"talk \(45\.0 s\).*s3_output"):
        make().embed([Item("talk", "audio", wav(45.0))])
    assert standin.requests == [] and standin.async_handler.starts == []


def test_never_mode_refuses_long_media():
    with pytest.raises(ValueError, match="async_mode must be one of"):
        from_spec(f"{NOVA}?async_mode=sometimes")
    with pytest.raises(ValueError, match="s3_output must be"):
        from_spec(f"{NOVA}?s3_output=/tmp/out")
