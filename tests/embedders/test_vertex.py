"""VertexMultimodalEmbedder through google-cloud-aiplatform against the local stand-in.

The GAPIC client reaches the stand-in through ``client_options.api_endpoint`` (the spec's
``api_endpoint``) and authenticates with Application Default Credentials from a
service-account key file. Expected vectors come from the stand-in's generator applied to
what the documentation says each request carries; video and document pooling is
recomputed here from the documented segment rule.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json

import numpy as np
import pypdfium2 as pdfium
import pytest
from google_standin import GoogleStandIn, google_env, mm_vector, service_account_file
from media_bytes import mp4
from PIL import Image

from audit.embedders.base import EmbeddingError
from audit.embedders.google.vertex import (
    BudgetExceededError,
    GoogleCallError,
    VertexMultimodalEmbedder,
    from_spec,
)
from audit.items import BadItemsError, Item, text_item

FAST = {"max_attempts": "4", "base_delay": "0.001", "max_delay": "0.005", "project": "proj-9"}
PATH = (
    "/v1/projects/proj-9/locations/us-central1/publishers/google/models/"
    "multimodalembedding@001:predict"
)


@pytest.fixture(scope="module")
def server():
    with GoogleStandIn() as s:
        yield s


@pytest.fixture(scope="module")
def key_file(server, tmp_path_factory):
    return service_account_file(tmp_path_factory.mktemp("adc") / "sa.json", server.url + "/token")


@pytest.fixture
def standin(server, key_file, monkeypatch, tmp_path):
    server.reset()
    google_env(monkeypatch, server, key_file, tmp_path)
    yield server
    server.reset()


def make(standin: GoogleStandIn, options: str = "") -> VertexMultimodalEmbedder:
    """An embedder on the stand-in with fast retries; ``options`` may override them."""
    merged = {**FAST, "api_endpoint": standin.url}
    merged |= dict(kv.split("=", 1) for kv in options.split("&") if kv)
    emb = from_spec("multimodalembedding@001?" + "&".join(f"{k}={v}" for k, v in merged.items()))
    emb.progress = False
    return emb


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def image_bytes(fmt: str, color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (9, 7), color).save(buf, format=fmt)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf(pages: int) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(144, 216)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def video_expected(data: bytes, segments: list[tuple[int, int]]) -> np.ndarray:
    """Length-weighted mean of the unit segment vectors, normalised (documented pooling)."""
    digest = sha(data)
    vecs = [unit(mm_vector("video", 1408, f"{digest}:{s}-{e}")) for s, e in segments]
    weights = np.array([e - s for s, e in segments], dtype=np.float64)
    return unit((weights[:, None] * np.stack(vecs)).sum(axis=0))


def test_text_and_image_bodies_and_vectors(standin):
    png = image_bytes("PNG")
    got = make(standin).embed([text_item("t", "a red square"), Item("i", "image", png)])
    bodies = sorted(standin.bodies(), key=lambda b: "image" in b["instances"][0])
    assert bodies == [
        {"instances": [{"text": "a red square"}], "parameters": {"dimension": 1408}},
        {"instances": [{"image": {"bytesBase64Encoded": base64.b64encode(png).decode()}}],
         "parameters": {"dimension": 1408}},
    ]  # fmt: skip
    assert {r.path for r in standin.requests} == {PATH}
    assert all(r.headers["authorization"].startswith("Bearer ") for r in standin.requests)
    np.testing.assert_allclose(got[0], unit(mm_vector("text", 1408, "a red square")), atol=1e-6)
    np.testing.assert_allclose(got[1], unit(mm_vector("image", 1408, sha(png))), atol=1e-6)


def test_purpose_changes_nothing(standin):
    emb = make(standin)
    index = emb.embed([text_item("t", "a dog")], purpose="index")
    query = emb.embed([text_item("t", "a dog")], purpose="query")
    np.testing.assert_array_equal(index, query)
    assert standin.bodies()[0] == standin.bodies()[1]


def test_accepted_formats_are_sent_as_is_others_as_png(standin):
    bmp, webp = image_bytes("BMP"), image_bytes("WEBP", "blue")
    make(standin).embed([Item("b", "image", bmp), Item("w", "image", webp)])
    sent = {
        base64.b64decode(b["instances"][0]["image"]["bytesBase64Encoded"]) for b in standin.bodies()
    }
    assert bmp in sent
    (other,) = sent - {bmp}
    assert other.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(other)) as a, Image.open(io.BytesIO(webp)) as b:
        assert np.array_equal(np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB")))


def test_served_sizes_are_requested_not_truncated(standin):
    emb = make(standin)
    got = emb.embed([text_item("t", "a cat")], dim=256)
    assert standin.bodies()[0]["parameters"] == {"dimension": 256}
    np.testing.assert_allclose(got[0], unit(mm_vector("text", 256, "a cat")), atol=1e-6)
    full = emb.embed([text_item("t", "a cat")])
    assert not np.allclose(full[0, :256] / np.linalg.norm(full[0, :256]), got[0], atol=1e-3)
    assert emb.at_dim(256).fingerprint != emb.fingerprint
    assert emb.matryoshka_dims == ()


def test_video_only_at_1408(standin):
    small = make(standin, "dim=512")
    assert small.modalities == frozenset({"text", "image"})
    with pytest.raises(BadItemsError, match=r"v: video is embedded only at dimension 1408"):
        small.embed([Item("v", "video", mp4(3))])
    with pytest.raises(BadItemsError, match="only at dimension 1408"):
        make(standin).embed([Item("v", "video", mp4(3))], dim=512)
    assert standin.requests == []


def test_video_segments_are_pooled_by_length(standin):
    data = mp4(10)
    emb = make(standin, "video_interval=4")
    got = emb.embed([Item("v", "video", data)])
    (body,) = standin.bodies()
    video = body["instances"][0]["video"]
    assert video["videoSegmentConfig"] == {
        "startOffsetSec": 0,
        "endOffsetSec": 10,
        "intervalSec": 4,
    }
    assert base64.b64decode(video["bytesBase64Encoded"]) == data
    np.testing.assert_allclose(got[0], video_expected(data, [(0, 4), (4, 8), (8, 10)]), atol=1e-5)
    assert emb.usage["media_seconds"] == pytest.approx(10.0)
    assert emb.describe()["video_mode"] == "plus"


def test_long_video_is_cut_into_windows_or_reported(standin):
    data = mp4(130)
    emb = make(standin, "video_max_seconds=240&video_interval=60")
    got = emb.embed([Item("v", "video", data)])
    configs = sorted(
        b["instances"][0]["video"]["videoSegmentConfig"]["startOffsetSec"] for b in standin.bodies()
    )
    assert configs == [0, 120]
    want = video_expected(data, [(0, 60), (60, 120), (120, 130)])
    np.testing.assert_allclose(got[0], want, atol=1e-5)
    standin.reset()
    short = make(standin, "video_interval=60")  # default: the first 120 s only
    short.embed([Item("v", "video", data)])
    assert len(standin.requests) == 1
    assert short.describe()["truncation"]["item_ids"]["media_partially_embedded"] == ["v"]
    assert short.notes["v"] == ["embedded the first 120 s of 130.0 s"]
    assert short.usage["media_seconds"] == pytest.approx(120.0)


def test_text_over_32_tokens_is_reported(standin):
    words = " ".join(f"w{i}" for i in range(40))
    emb = make(standin)
    got = emb.embed([text_item("long", words), text_item("short", "ok")])
    truncation = emb.describe()["truncation"]
    assert truncation["limit_tokens"] == 32
    assert truncation["item_ids"]["text_over_limit_estimated"] == ["long"]
    shortened = " ".join(f"w{i}" for i in range(32))  # what the model embeds
    np.testing.assert_allclose(got[0], unit(mm_vector("text", 1408, shortened)), atol=1e-6)
    with pytest.raises(BadItemsError, match="long: text is estimated over the 32-token"):
        make(standin, "long_text=error").embed([text_item("long", words)])


def test_documents_only_when_asked(standin):
    doc = Item("d", "document", pdf(3))
    with pytest.raises(BadItemsError, match="does not embed modality 'document'"):
        make(standin).embed([doc])
    emb = make(standin, "documents=1&doc_max_pages=2&doc_dpi=36")
    got = emb.embed([doc])
    pages = [
        base64.b64decode(b["instances"][0]["image"]["bytesBase64Encoded"]) for b in standin.bodies()
    ]
    assert len(pages) == 2 and all(p.startswith(b"\x89PNG") for p in pages)
    want = unit(np.mean([unit(mm_vector("image", 1408, sha(p))) for p in pages], axis=0))
    np.testing.assert_allclose(got[0], want, atol=1e-5)
    assert emb.notes["d"] == ["embedded 2 of 3 pages"]
    assert emb.usage["images"] == 2


def test_plan_equals_the_counters_of_a_clean_run(standin):
    emb = make(standin, "documents=1&doc_dpi=36&video_interval=8")
    items = [
        text_item("t", "hello"),
        Item("i", "image", image_bytes("JPEG")),
        Item("v", "video", mp4(5)),
        Item("d", "document", pdf(2)),
    ]
    plan = emb.plan_usage(items)
    assert standin.requests == []
    emb.embed(items)
    usage = emb.usage
    assert plan.requests == usage["requests"] == len(standin.requests) == 5
    assert (plan.text_chars, plan.images) == (usage["text_chars"], usage["images"]) == (5, 3)
    assert plan.media_seconds == pytest.approx(usage["media_seconds"]) == pytest.approx(5.0)
    sizes = [len(json.dumps(b, separators=(",", ":"))) for b in standin.bodies()]
    assert plan.bytes_sent == usage["bytes_sent"] == sum(sizes)


def test_budget_counts_windows_and_pages_before_sending(standin):
    emb = make(standin, "max_requests=2&video_max_seconds=240")
    with pytest.raises(BudgetExceededError, match=r"needs 3 request\(s\)"):
        emb.embed([text_item("t", "x"), Item("v", "video", mp4(130))])
    assert standin.requests == []


def test_throttling_is_retried_and_counted(standin):
    standin.inject("throttle", times=2)
    emb = make(standin)
    got = emb.embed([text_item("t", "a red square")])
    np.testing.assert_allclose(got[0], unit(mm_vector("text", 1408, "a red square")), atol=1e-6)
    assert (emb.usage["requests"], emb.usage["retries"], emb.usage["throttles"]) == (3, 2, 2)


def test_a_timeout_is_retried(standin):
    standin.inject("slow", seconds=1.0)
    emb = make(standin, "timeout=0.3")
    emb.embed([text_item("t", "x")])
    assert emb.usage["retries"] == 1


def test_failures_name_the_item(standin):
    standin.inject("invalid", match="bad one")
    standin.inject("unavailable", times=10, match="flaky")
    with pytest.raises(GoogleCallError) as info:
        make(standin, "max_attempts=2").embed(
            [text_item("a", "bad one"), text_item("b", "flaky"), text_item("c", "fine")]
        )
    text = str(info.value)
    assert "a: INVALID_ARGUMENT (not retried)" in text
    assert "b: UNAVAILABLE (still failing after 2 attempt(s)" in text
    assert "c:" not in text


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("nan", r"NaN/inf values for 'v \[0-10s\] segment 0'"),
        ("wrong_length", r"shape \(1407,\) for 'v \[0-10s\] segment 0'"),
        ("missing", r"0 predictions for 'v \[0-10s\]'"),
    ],
)
def test_unusable_answers_name_the_item(standin, fault, message):
    standin.inject(fault)
    with pytest.raises(EmbeddingError, match=message):
        make(standin).embed([Item("v", "video", mp4(10))])


def test_standin_rejects_what_the_docs_forbid(standin):
    from vertex_standin import Invalid, answer_multimodal

    ok = {"instances": [{"text": "x"}], "parameters": {"dimension": 128.0}}
    answer_multimodal(ok, lambda *a: [0.0])
    bad = [
        {"instances": [{"text": "x"}, {"text": "y"}]},
        {"instances": [{"text": "x", "audio": {}}]},
        {"instances": [{"text": "x"}], "parameters": {"dimension": 300}},
        {
            "instances": [{"video": {"bytesBase64Encoded": "AAAA"}}],
            "parameters": {"dimension": 512},
        },
        {
            "instances": [
                {"video": {"bytesBase64Encoded": "AAAA", "videoSegmentConfig": {"intervalSec": 2}}}
            ]
        },
        {
            "instances": [
                {"image": {"bytesBase64Encoded": base64.b64encode(b"RIFF0000WEBP").decode()}}
            ]
        },
    ]
    for body in bad:
        with pytest.raises(Invalid):
            answer_multimodal(body, lambda *a: [0.0])


def test_body_matches_the_vertexai_sdk(standin, key_file):
    """Our instance is exactly what vision_models.MultiModalEmbeddingModel sends."""
    import warnings

    import vertexai
    from google.oauth2 import service_account
    from vertexai.vision_models import Image as VxImage
    from vertexai.vision_models import MultiModalEmbeddingModel, Video, VideoSegmentConfig

    png, video = image_bytes("PNG"), mp4(6)
    credentials = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    vertexai.init(
        project="proj-9",
        location="us-central1",
        api_endpoint=standin.url,
        api_transport="rest",
        credentials=credentials,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the module's deprecation notices
        model = MultiModalEmbeddingModel.from_pretrained("multimodalembedding@001")
        model.get_embeddings(contextual_text="a cat", dimension=256)
        model.get_embeddings(image=VxImage(image_bytes=png), dimension=256)
        model.get_embeddings(
            video=Video(video_bytes=video),
            dimension=1408,
            video_segment_config=VideoSegmentConfig(0, 6, 16),
        )
    sdk = standin.bodies()
    standin.reset()
    make(standin).embed([text_item("t", "a cat"), Item("i", "image", png)], dim=256)
    make(standin).embed([Item("v", "video", video)])
    ours = standin.bodies()
    key = json.dumps
    assert sorted(map(key, ours)) == sorted(map(key, sdk))


def test_no_credentials_is_a_clear_error_and_plan_needs_none(standin, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    emb = make(standin)
    assert emb.plan_usage([text_item("t", "x")]).requests == 1
    with pytest.raises(EmbeddingError, match="application-default login"):
        emb.embed([text_item("t", "x")])
    assert standin.requests == []


def test_describe_is_json_and_holds_no_secrets(standin, key_file):
    emb = make(standin, "max_requests=3")
    emb.embed([text_item("t", "x")])
    described = emb.describe()
    text = json.dumps(described)
    secret = json.loads(key_file.read_text())["private_key"]
    assert secret[40:80] not in text and "standin-access-token" not in text
    assert described["usage"]["requests"] == 1 and described["usage"]["max_requests"] == 3
    assert described["client"]["project"] == "proj-9"
    assert described["client"]["endpoint"] == standin.url
    assert described["video_mode"] == "essential"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("multimodalembedding@001?dim=300", "not a size"),
        ("multimodalembedding@001?video_interval=3", r"video_interval must be in \[4, 120\]"),
        ("multimodalembedding@001?credentials=x", "looks like a credential"),
        ("multimodalembedding@001?documents=perhaps", "documents=.* is not valid"),
        ("multimodalembedding@002", "not supported"),
    ],
)
def test_bad_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        from_spec(spec)
