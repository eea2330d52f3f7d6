"""TwelveLabs Marengo Embed 2.7 through boto3 against the local stand-ins (Bedrock + moto
S3): sync text/image through an inference profile, async audio/video/base-model jobs,
the 77-token limit reported, retries and errors naming the items.

Expected vectors come from the stand-in's hash-seeded generator applied to what the AWS
guide says each request must contain (and, for clips, the mean of the unit clip vectors
computed here by hand).
"""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import pytest
from bedrock_async_standin import s3_standin
from bedrock_standin import MARENGO, reference_vector, standin_env
from bedrock_standin_extra import tokens
from media_bytes import mp4
from PIL import Image

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.embedders.bedrock._marengo import token_bounds
from audit.embedders.bedrock._transport import BedrockCallError
from audit.items import Item, text_item

PROFILE = f"us.{MARENGO}"
BUCKET = "mme-audit-test"
FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005&poll_interval=0.01"
OUT = f"s3_output=s3://{BUCKET}/jobs"
FAKE_MP4 = mp4(2)  # a real video: validation decodes its first frame


@pytest.fixture
def standin(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


@pytest.fixture
def env(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as standin, s3_standin(monkeypatch, standin) as s3:
        yield standin, s3


def make(options: str = "", model: str = PROFILE) -> BedrockEmbedder:
    emb = from_spec(f"{model}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def ref(content: str) -> np.ndarray:
    return reference_vector(MARENGO, "", content, 1024).astype(np.float32)


def pooled(contents: list[str]) -> np.ndarray:
    mean = np.mean([ref(c) for c in contents], axis=0)
    return mean / np.linalg.norm(mean)


def png(color: str = "red", fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (9, 7), color).save(buf, format=fmt)
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


def test_text_and_image_are_synchronous_through_the_inference_profile(standin):
    emb = make()
    bmp = png("blue", "BMP")
    got = emb.embed([text_item("q", "a man walking a dog"), Item("pic", "image", bmp)])
    text_body, image_body = sorted(standin.bodies(), key=lambda b: b["inputType"] != "text")
    assert text_body == {
        "inputType": "text",
        "inputText": "a man walking a dog",
        "textTruncate": "end",
    }
    assert set(image_body) == {"inputType", "mediaSource"}
    sent = base64.b64decode(image_body["mediaSource"]["base64String"])
    assert Image.open(io.BytesIO(sent)).format == "PNG"  # BMP re-encoded, PNG/JPEG as-is
    assert {r.model_id for r in standin.requests} == {PROFILE}
    np.testing.assert_allclose(got[0], ref("text:a man walking a dog"), atol=1e-6)
    np.testing.assert_allclose(got[1], ref("image:" + b64(sent)), atol=1e-6)
    # no purpose parameter: a query is the same request and the same vector
    query = emb.embed([text_item("q", "a man walking a dog")], purpose="query")
    np.testing.assert_array_equal(query[0], got[0])
    assert standin.bodies()[-1] == text_body
    assert emb.dim == 1024 and emb.served_dims == (1024,)


def test_the_77_token_limit_is_reported_and_truncation_follows_text_truncate(standin, caplog):
    long_text = " ".join(["the quick brown fox jumps over the lazy dog"] * 12)  # 108 pieces
    medium = "short caption, of thirty words at most " * 2  # 78 bytes, 16 pieces
    emb = make()
    with caplog.at_level("WARNING", logger="audit.embedders.bedrock"):
        got = emb.embed(
            [
                text_item("long", long_text),
                text_item("medium", medium),
                text_item("tiny", "a red car"),
            ]
        )
    kept = " ".join(tokens(long_text)[:75])  # end: the first 77 - 2 pieces are embedded
    np.testing.assert_allclose(got[0], ref("text:" + kept), atol=1e-6)
    np.testing.assert_allclose(got[1], ref("text:" + medium), atol=1e-6)
    truncation = emb.describe()["truncation"]
    assert truncation["limit"] == "77 tokens" and truncation["mode"] == "end"
    assert truncation["counts"] == {"over": 0, "reported": 0, "likely": 1, "possible": 1}
    assert truncation["items"] == {"likely": ["long"], "possible": ["medium"]}
    assert token_bounds(medium) == (len(tokens(medium)) + 2, len(medium.encode()) + 2)
    assert "between 110 and" in emb.notes["long"][0] and "tiny" not in emb.notes
    assert "1 text item(s) likely and 1 possibly over the limit of 77 tokens" in caplog.text
    json.dumps(emb.describe())  # the report stores it
    strict = make("truncation=none")
    with pytest.raises(BedrockCallError, match=r"long: ValidationException.*over the limit"):
        strict.embed([text_item("long", long_text)])
    assert len(standin.requests) == 4  # three, then one refusal (not retried)
    with pytest.raises(ValueError, match="truncation must be one of END, NONE"):
        make("truncation=START")


def test_the_base_model_id_needs_an_s3_output_for_text(standin):
    with pytest.raises(ValueError, match=r"q need Bedrock's asynchronous.*inference profile"):
        make(model=MARENGO).embed([text_item("q", "hello")])
    assert standin.requests == []
    with pytest.raises(ValueError, match="InvokeModel is offered for inference profiles only"):
        make("async_mode=never", model=MARENGO).embed([text_item("q", "hello")])


def test_audio_runs_an_async_job_on_the_base_model_and_pools_its_clips(env):
    standin, s3 = env
    clip = wav(25.0)
    emb = make(OUT)
    got = emb.embed([Item("talk", "audio", clip)])
    (start,) = standin.async_handler.starts
    assert start["modelId"] == MARENGO  # StartAsyncInvoke takes the base model id
    assert start["modelInput"] == {"inputType": "audio", "mediaSource": {"base64String": b64(clip)}}
    assert start["outputDataConfig"] == {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/jobs"}}
    # default audio segmentation: equal clips near 10 s -> 25 s is 2 clips of 12.5 s
    np.testing.assert_allclose(
        got[0], pooled([f"audio{i}:{b64(clip)}" for i in range(2)]), atol=1e-6
    )
    usage = emb.usage
    assert (usage["requests"], usage["async_jobs"], usage["polls"]) == (1, 1, 3)
    assert usage["media_seconds"] == pytest.approx(25.0)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="jobs/")["Contents"]]
    assert any(k.endswith("/output.json") for k in keys)


def test_video_requests_one_embedding_option_with_fixed_clips(env):
    standin, _ = env
    emb = make(f"{OUT}&video_embedding=visual-image&clip_seconds=5")
    got = emb.embed([Item("ad", "video", FAKE_MP4)], purpose="query")
    (start,) = standin.async_handler.starts
    assert start["modelInput"] == {
        "inputType": "video",
        "mediaSource": {"base64String": b64(FAKE_MP4)},
        "useFixedLengthSec": 5.0,
        "embeddingOption": ["visual-image"],
    }
    np.testing.assert_allclose(got[0], ref(f"visual-image0:{b64(FAKE_MP4)}"), atol=1e-6)
    assert emb.params["video_embedding"] == "visual-image"


def test_base_model_id_sends_text_and_s3_images_as_async_jobs(env):
    standin, s3 = env
    image = png("teal")
    s3.put_object(Bucket=BUCKET, Key="media/cat.png", Body=image)
    emb = make(OUT, model=MARENGO)
    got = emb.embed([text_item("q", "a cat"), Item("cat", "image", f"s3://{BUCKET}/media/cat.png")])
    inputs = [s["modelInput"] for s in standin.async_handler.starts]
    assert {"inputType": "text", "inputText": "a cat", "textTruncate": "end"} in inputs
    uri = f"s3://{BUCKET}/media/cat.png"
    assert {"inputType": "image", "mediaSource": {"s3Location": {"uri": uri}}} in inputs
    assert standin.requests == []  # nothing went through InvokeModel
    np.testing.assert_allclose(got[0], ref("text:a cat"), atol=1e-6)
    np.testing.assert_allclose(got[1], ref("image:" + b64(image)), atol=1e-6)


def test_never_mode_refuses_media_before_sending(env):
    standin, _ = env
    with pytest.raises(ValueError, match=r"refused: Marengo embeds audio and video only.*clip"):
        make(f"{OUT}&async_mode=never").embed([Item("clip", "audio", wav(2.0))])
    assert standin.async_handler.starts == []


def test_throttling_is_retried_and_bad_vectors_name_the_item(standin):
    standin.inject("throttle", times=2)
    emb = make()
    emb.embed([text_item("q", "hello")])
    assert (emb.usage["requests"], emb.usage["retries"], emb.usage["throttles"]) == (3, 2, 2)
    standin.inject("wrong_length", match="broken")
    with pytest.raises(EmbeddingError, match=r"shape \(1023,\) for item 'bad'"):
        emb.embed([text_item("ok", "fine"), text_item("bad", "broken")])


def test_marengo_only_options_are_checked():
    with pytest.raises(ValueError, match="clip_seconds must be in"):
        make("clip_seconds=1")
    with pytest.raises(ValueError, match="video_embedding must be one of"):
        make("video_embedding=visual")
    with pytest.raises(ValueError, match="apply to Marengo only"):
        make("clip_seconds=4", model="amazon.nova-2-multimodal-embeddings-v1:0")
    with pytest.raises(ValueError, match="has no purpose/input-type parameter"):
        make("index_purpose=GENERIC_INDEX")


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (MARENGO, {"inputType": "text", "inputText": "hi"}),
        (PROFILE, {"inputType": "video", "mediaSource": {"base64String": b64(FAKE_MP4)}}),
        (PROFILE, {"inputType": "text", "inputText": "hi", "textTruncate": "start"}),
        (PROFILE, {"inputType": "text", "inputText": "hi", "embeddingOption": ["audio"]}),
        (PROFILE, {"inputType": "image", "mediaSource": {"bytes": b64(png())}}),
        (PROFILE, {"inputType": "image"}),
        (PROFILE, {"inputType": "speech", "inputText": "hi"}),
    ],
    ids=[
        "base-id-on-invoke",
        "video-on-invoke",
        "truncate-start",
        "text-with-option",
        "wrong-source-key",
        "missing-source",
        "bad-input-type",
    ],
)
def test_standin_rejects_marengo_bodies_the_service_would_reject(standin, model, body):
    import boto3

    client = boto3.client("bedrock-runtime")
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=model, body=json.dumps(body))
    good = {"inputType": "text", "inputText": "hi"}
    answer = json.loads(client.invoke_model(modelId=PROFILE, body=json.dumps(good))["body"].read())
    assert len(answer["data"][0]["embedding"]) == 1024
