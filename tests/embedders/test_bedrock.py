"""BedrockEmbedder through boto3 against the local stand-in: bodies, vectors, sizes, cache.

Expected vectors come from the stand-in's own hash-seeded generator applied to what the
documentation says the request must contain, so a wrong field, a wrong purpose, a wrong
size or a mixed-up order changes the answer.
"""

from __future__ import annotations

import base64
import io
import sqlite3
import wave
from pathlib import Path

import numpy as np
import pytest
from bedrock_standin import NOVA, TITAN_MM, TITAN_TEXT, reference_vector, standin_env
from media_bytes import mp4
from PIL import Image

from audit.cache import CachedEmbedder
from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.items import BadItemsError, Item, text_item

FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005"


@pytest.fixture
def standin(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


def make(options: str = "", model: str = NOVA) -> BedrockEmbedder:
    emb = from_spec(f"{model}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def ref(model: str, purpose: str, content: str, dim: int) -> np.ndarray:
    return reference_vector(model, purpose, content, dim).astype(np.float32)


def image_bytes(color: str, fmt: str = "PNG", size: tuple[int, int] = (12, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes([128]) * int(seconds * rate))
    return buf.getvalue()


def test_nova_text_bodies_and_vectors_for_both_purposes(standin):
    emb = make()
    items = [text_item("a", "a red bicycle"), text_item("b", "two cats")]
    got = emb.embed(items)
    assert standin.bodies()[0] in [
        {
            "schemaVersion": "nova-multimodal-embed-v1",
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": {
                "embeddingPurpose": "GENERIC_INDEX",
                "embeddingDimension": 3072,
                "text": {"truncationMode": "END", "value": text},
            },
        }
        for text in ("a red bicycle", "two cats")
    ]
    assert all(r.content_type == "application/json" and r.signed for r in standin.requests)
    np.testing.assert_allclose(got[0], ref(NOVA, "GENERIC_INDEX", "a red bicycle", 3072), atol=1e-6)
    np.testing.assert_allclose(got[1], ref(NOVA, "GENERIC_INDEX", "two cats", 3072), atol=1e-6)
    query = emb.embed(items[:1], purpose="query")
    assert standin.bodies()[-1]["singleEmbeddingParams"]["embeddingPurpose"] == "GENERIC_RETRIEVAL"
    np.testing.assert_allclose(
        query[0], ref(NOVA, "GENERIC_RETRIEVAL", "a red bicycle", 3072), atol=1e-6
    )


@pytest.mark.parametrize(
    ("option", "purpose"),
    [("image_retrieval", "IMAGE_RETRIEVAL"), ("DOCUMENT_RETRIEVAL", "DOCUMENT_RETRIEVAL")],
)
def test_query_purpose_is_configurable_and_index_stays_generic(standin, option, purpose):
    emb = make(f"query_purpose={option}")
    emb.embed([text_item("q", "find it")], purpose="query")
    emb.embed([text_item("d", "indexed")], purpose="index")
    sent = [b["singleEmbeddingParams"]["embeddingPurpose"] for b in standin.bodies()]
    assert sent == [purpose, "GENERIC_INDEX"]
    assert emb.params["query_purpose"] == purpose


def test_order_is_kept_with_concurrent_requests_and_mixed_modalities(standin):
    emb = make("max_workers=4")
    # The first item answers last; rows must still follow the input order.
    standin.inject("slow", match="item-0 text", seconds=0.3)
    items: list[Item] = []
    for i in range(8):
        items.append(text_item(f"t{i}", f"item-{i} text"))
        items.append(Item(f"i{i}", "image", image_bytes((i * 30, 10, 200 - i * 20))))
    got = emb.embed(items)
    for row, it in zip(got, items, strict=True):
        if it.modality == "text":
            want = ref(NOVA, "GENERIC_INDEX", str(it.content), 3072)
        else:
            want = ref(NOVA, "GENERIC_INDEX", f"STANDARD_IMAGE:{b64(it.content)}", 3072)
        np.testing.assert_allclose(row, want, atol=1e-6)


def test_image_bodies_keep_accepted_formats_and_reencode_others(standin, tmp_path):
    emb = make()
    png, jpeg = image_bytes("red"), image_bytes("green", "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(jpeg)
    bmp = image_bytes("blue", "BMP")
    emb.embed([Item("png", "image", png)])
    emb.embed([Item("jpg", "image", path)])
    emb.embed([Item("bmp", "image", bmp)])
    sent = [b["singleEmbeddingParams"]["image"] for b in standin.bodies()]
    assert sent[0] == {
        "format": "png",
        "detailLevel": "STANDARD_IMAGE",
        "source": {"bytes": b64(png)},
    }
    assert sent[1] == {
        "format": "jpeg",
        "detailLevel": "STANDARD_IMAGE",
        "source": {"bytes": b64(jpeg)},
    }
    assert sent[2]["format"] == "png"  # BMP is not accepted: re-encoded losslessly
    reencoded = Image.open(io.BytesIO(base64.b64decode(sent[2]["source"]["bytes"])))
    assert reencoded.format == "PNG"
    assert np.array_equal(np.asarray(reencoded), np.asarray(Image.open(io.BytesIO(bmp))))


def test_document_pages_are_rendered_sent_as_document_images_and_pooled(standin):
    pages = [Image.new("RGB", (60, 80), c) for c in ("red", "blue", "green")]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:])
    emb = make("doc_max_pages=2&doc_dpi=72")
    got = emb.embed([Item("report", "document", buf.getvalue())], purpose="query")
    bodies = standin.bodies()
    assert len(bodies) == 2  # the third page is left out and reported
    colours = set()
    vectors = []
    for body in bodies:
        params = body["singleEmbeddingParams"]
        assert params["embeddingPurpose"] == "GENERIC_RETRIEVAL"
        image = params["image"]
        assert (image["format"], image["detailLevel"]) == ("png", "DOCUMENT_IMAGE")
        page = Image.open(io.BytesIO(base64.b64decode(image["source"]["bytes"]))).convert("RGB")
        colours.add(int(np.argmax(page.getpixel((30, 40)))))  # dominant channel
        content = f"DOCUMENT_IMAGE:{image['source']['bytes']}"
        vectors.append(ref(NOVA, "GENERIC_RETRIEVAL", content, 3072))
    assert colours == {0, 2}  # red and blue: pages 1 and 2, in either request order
    pooled = np.mean(vectors, axis=0)
    np.testing.assert_allclose(got[0], pooled / np.linalg.norm(pooled), atol=1e-6)
    assert emb.notes["report"] == ["embedded 2 of 3 pages"]


def test_audio_body_and_long_audio_refused_before_sending(standin):
    emb = make()
    clip = wav_bytes(1.0)
    got = emb.embed([Item("clip", "audio", clip)])
    assert standin.bodies()[0]["singleEmbeddingParams"]["audio"] == {
        "format": "wav",
        "source": {"bytes": b64(clip)},
    }
    np.testing.assert_allclose(got[0], ref(NOVA, "GENERIC_INDEX", b64(clip), 3072), atol=1e-6)
    # over 30 s needs the async segmented path, which needs an S3 output location
    with pytest.raises(ValueError, match=r"long-talk \(31\.0 s\).*s3_output"):
        emb.embed([Item("long-talk", "audio", wav_bytes(31.0))])
    assert len(standin.requests) == 1


def test_video_body_and_separate_mode_averages_audio_and_video(standin):
    fake_mp4 = mp4(2)  # a real video: validation decodes its first frame
    emb = make()
    got = emb.embed([Item("v", "video", fake_mp4)])
    assert standin.bodies()[0]["singleEmbeddingParams"]["video"] == {
        "format": "mp4",
        "source": {"bytes": b64(fake_mp4)},
        "embeddingMode": "AUDIO_VIDEO_COMBINED",
    }
    np.testing.assert_allclose(got[0], ref(NOVA, "GENERIC_INDEX", b64(fake_mp4), 3072), atol=1e-6)
    sep = make("video_mode=audio_video_separate").embed([Item("v", "video", fake_mp4)])
    both = sum(ref(NOVA, "GENERIC_INDEX", f"{t}:{b64(fake_mp4)}", 3072) for t in ("AUDIO", "VIDEO"))
    np.testing.assert_allclose(sep[0], both / np.linalg.norm(both), atol=1e-6)


def test_requested_size_is_sent_not_truncated_client_side(standin):
    item = [text_item("a", "hello")]
    small = make("dim=1024")
    assert (small.dim, small.matryoshka_dims) == (1024, (1024, 384, 256))
    np.testing.assert_allclose(
        small.embed(item)[0], ref(NOVA, "GENERIC_INDEX", "hello", 1024), atol=1e-6
    )
    full = make()
    got384 = full.embed(item, dim=384)
    assert standin.bodies()[-1]["singleEmbeddingParams"]["embeddingDimension"] == 384
    np.testing.assert_allclose(got384[0], ref(NOVA, "GENERIC_INDEX", "hello", 384), atol=1e-6)
    # A size the service does not serve: the 3072-d answer, truncated and renormalised.
    got100 = full.embed(item, dim=100)
    assert standin.bodies()[-1]["singleEmbeddingParams"]["embeddingDimension"] == 3072
    prefix = ref(NOVA, "GENERIC_INDEX", "hello", 3072)[:100]
    np.testing.assert_allclose(got100[0], prefix / np.linalg.norm(prefix), atol=1e-6)
    assert full.at_dim(384) is full.at_dim(384)
    assert len({full.fingerprint, full.at_dim(1024).fingerprint, small.fingerprint}) == 2
    with pytest.raises(ValueError, match=r"\[3072, 1024, 384, 256\]"):
        make("dim=512")


def test_titan_text_v2_body_and_modalities(standin):
    emb = make("dim=512", model=TITAN_TEXT)
    got = emb.embed([text_item("t", "hello titan")], purpose="query")
    assert standin.bodies() == [{"inputText": "hello titan", "dimensions": 512, "normalize": True}]
    np.testing.assert_allclose(got[0], ref(TITAN_TEXT, "", "hello titan", 512), atol=1e-6)
    with pytest.raises(BadItemsError, match="pic"):
        emb.embed([Item("pic", "image", image_bytes("red"))])


def test_titan_multimodal_g1_bodies(standin):
    emb = make("dim=384", model=TITAN_MM)
    gif = image_bytes("red", "GIF")
    got = emb.embed([text_item("t", "a dog"), Item("g", "image", gif)])
    text_body, image_body = standin.bodies()
    assert text_body == {"inputText": "a dog", "embeddingConfig": {"outputEmbeddingLength": 384}}
    assert set(image_body) == {"inputImage", "embeddingConfig"}
    sent = Image.open(io.BytesIO(base64.b64decode(image_body["inputImage"])))
    assert sent.format == "PNG"  # Titan takes PNG/JPEG only: the GIF is re-encoded
    np.testing.assert_allclose(got[0], ref(TITAN_MM, "", "text:a dog", 384), atol=1e-6)
    want = ref(TITAN_MM, "", "image:" + image_body["inputImage"], 384)
    np.testing.assert_allclose(got[1], want, atol=1e-6)


def test_long_text_is_reported_and_service_truncation_recorded(standin, caplog):
    long_text = "word " * 2000  # 10,000 characters
    emb = make("truncation=START")
    with caplog.at_level("WARNING", logger="audit.embedders.bedrock"):
        got = emb.embed([text_item("long", long_text), text_item("short", "fine")])
    assert "1 text item(s) over the documented 8192 characters" in caplog.text
    assert "truncated 1 text item(s): long" in caplog.text
    assert emb.notes["long"][0] == "text over the documented 8,192 characters"
    assert "truncatedCharLength=8192" in emb.notes["long"][1]
    assert "short" not in emb.notes
    kept = long_text[-8192:]  # START cuts the beginning
    np.testing.assert_allclose(got[0], ref(NOVA, "GENERIC_INDEX", kept, 3072), atol=1e-6)


def test_cached_second_call_makes_no_request_and_sizes_are_cached_apart(standin, tmp_path):
    emb = make()
    items = [text_item("a", "alpha"), text_item("b", "beta")]
    cached = CachedEmbedder(emb, tmp_path / "cache.sqlite")
    first = cached.embed(items)
    assert len(standin.requests) == 2
    again = cached.embed(items)
    assert len(standin.requests) == 2
    np.testing.assert_array_equal(first, again)
    cached.embed(items, purpose="query")  # another purpose is another key
    assert len(standin.requests) == 4
    small = CachedEmbedder(emb.at_dim(256), tmp_path / "cache.sqlite")
    got = small.embed(items[:1])
    np.testing.assert_allclose(got[0], ref(NOVA, "GENERIC_INDEX", "alpha", 256), atol=1e-6)
    small.embed(items[:1])
    assert len(standin.requests) == 5
    with sqlite3.connect(tmp_path / "cache.sqlite") as conn:
        dims = sorted(d for (d,) in conn.execute("SELECT dim FROM embeddings"))
    assert dims == [256, 3072, 3072, 3072, 3072]


def test_explicit_endpoint_url_option(standin, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    emb = make(f"endpoint_url={standin.url}&region=eu-west-1")
    emb.embed([text_item("a", "x")])
    assert len(standin.requests) == 1
    assert emb.describe()["client"]["endpoint"] == standin.url
    assert emb.describe()["client"]["region"] == "eu-west-1"


def test_spec_parsing_and_model_resolution():
    assert from_spec("").model_id == NOVA
    emb = from_spec(f"{NOVA}?dim=256&truncation=none&max_attempts=2&max_total_time=5")
    assert (emb.dim, emb.truncation) == (256, "NONE")
    assert emb.describe()["client"]["retry"]["max_attempts"] == 2
    assert from_spec(f"us.{NOVA}").spec.model_id == NOVA
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN_TEXT}"
    assert from_spec(arn).dim == 1024
    with pytest.raises(ValueError, match="did you mean 'region'"):
        from_spec(f"{NOVA}?regoin=us-east-1")
    with pytest.raises(ValueError, match="given twice"):
        from_spec(f"{NOVA}?dim=256&dim=1024")
    with pytest.raises(ValueError, match="dim='big'"):
        from_spec(f"{NOVA}?dim=big")
    with pytest.raises(ValueError, match="query_purpose must be one of"):
        from_spec(f"{NOVA}?query_purpose=FAST")
    with pytest.raises(ValueError, match=r"did you mean amazon\.titan-embed-text-v2:0"):
        from_spec("amazon.titan-embed-text-v3:0")


def test_paths_are_read(standin, tmp_path: Path):
    path = tmp_path / "clip.wav"
    path.write_bytes(wav_bytes(0.5))
    make().embed([Item("clip", "audio", path)])
    assert standin.bodies()[0]["singleEmbeddingParams"]["audio"]["source"]["bytes"] == b64(
        path.read_bytes()
    )


def test_long_video_duration_is_read_and_refused(standin):
    emb = make()
    emb.embed([Item("short", "video", mp4(5))])
    assert standin.bodies()[0]["singleEmbeddingParams"]["video"]["format"] == "mp4"
    with pytest.raises(ValueError, match=r"long \(31\.0 s\).*s3_output"):
        emb.embed([Item("long", "video", mp4(31)), Item("short", "video", mp4(5))])
    assert len(standin.requests) == 1
