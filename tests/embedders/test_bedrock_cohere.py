"""Cohere Embed v4 through boto3 against the local stand-in: bodies, batching, input types,
sizes, images and pages, truncation reporting, retries and errors naming the items.

Expected vectors come from the stand-in's hash-seeded generator applied to what the AWS
guide says each request must contain, so a wrong input type, size, order or batch
mapping changes the answer.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from bedrock_standin import COHERE, reference_vector, standin_env
from PIL import Image

from audit.embedders.base import EmbeddingError
from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.embedders.bedrock._cohere import MAX_REQUEST_BYTES, batch_jobs
from audit.embedders.bedrock._models import Part
from audit.embedders.bedrock._transport import BedrockCallError
from audit.items import BadItemsError, Item, text_item

FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005"


@pytest.fixture
def standin(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


def make(options: str = "", model: str = COHERE) -> BedrockEmbedder:
    emb = from_spec(f"{model}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def ref(input_type: str, content: str, dim: int = 1536) -> np.ndarray:
    return reference_vector(COHERE, input_type, content, dim).astype(np.float32)


def image_bytes(color: str, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (10, 6), color).save(buf, format=fmt)
    return buf.getvalue()


def pdf(colors: list[str]) -> bytes:
    pages = [Image.new("RGB", (40, 50), c) for c in colors]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:])
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_texts_are_batched_96_per_request_and_map_back_exactly(standin):
    emb = make("max_workers=4")
    standin.inject("slow", match="text 0 ", seconds=0.2)  # the first request answers last
    items = [text_item(f"t{i}", f"text {i} about cats") for i in range(100)]
    got = emb.embed(items)
    bodies = sorted(standin.bodies(), key=lambda b: -len(b["texts"]))
    assert [len(b["texts"]) for b in bodies] == [96, 4]
    assert bodies[0] == {
        "input_type": "search_document",
        "texts": [f"text {i} about cats" for i in range(96)],
        "embedding_types": ["float"],
        "output_dimension": 1536,
        "truncate": "RIGHT",
    }
    want = np.stack([ref("search_document", f"text:text {i} about cats") for i in range(100)])
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert emb.usage["requests"] == 2 and emb.usage["text_chars"] == sum(
        len(str(it.content)) for it in items
    )


def test_purposes_map_to_input_types_and_are_configurable(standin):
    emb = make()
    query = emb.embed([text_item("q", "where is the cat")], purpose="query")
    assert standin.bodies()[-1]["input_type"] == "search_query"
    np.testing.assert_allclose(query[0], ref("search_query", "text:where is the cat"), atol=1e-6)
    clustering = make("index_purpose=CLUSTERING&query_purpose=classification")
    clustering.embed([text_item("d", "doc")])
    clustering.embed([text_item("q", "doc")], purpose="query")
    assert [b["input_type"] for b in standin.bodies()[-2:]] == ["clustering", "classification"]
    assert clustering.params["index_input_type"] == "clustering"
    with pytest.raises(ValueError, match="query_purpose must be one of search_document"):
        make("query_purpose=GENERIC_RETRIEVAL")
    with pytest.raises(ValueError, match="has no purpose/input-type parameter"):
        make("query_purpose=search_query", model="amazon.titan-embed-text-v2:0")


def test_sizes_are_requested_from_the_service(standin):
    small = make("dim=512")
    assert small.matryoshka_dims == (512, 256)
    got = small.embed([text_item("a", "hello")])
    assert standin.bodies()[-1]["output_dimension"] == 512
    np.testing.assert_allclose(got[0], ref("search_document", "text:hello", 512), atol=1e-6)
    full = make()
    got256 = full.embed([text_item("a", "hello")], dim=256)
    assert standin.bodies()[-1]["output_dimension"] == 256
    np.testing.assert_allclose(got256[0], ref("search_document", "text:hello", 256), atol=1e-6)
    with pytest.raises(ValueError, match=r"\[1536, 1024, 512, 256\]"):
        make("dim=384")


def test_images_go_as_data_uris_in_one_request(standin):
    png, gif, bmp = image_bytes("red"), image_bytes("blue", "GIF"), image_bytes("green", "BMP")
    emb = make()
    got = emb.embed([Item("p", "image", png), Item("g", "image", gif), Item("b", "image", bmp)])
    (body,) = standin.bodies()
    assert set(body) == {"input_type", "images", "embedding_types", "output_dimension", "truncate"}
    uris = body["images"]
    assert uris[0] == f"data:image/png;base64,{b64(png)}"
    assert uris[1] == f"data:image/gif;base64,{b64(gif)}"  # gif is a documented format
    assert uris[2].startswith("data:image/png;base64,")  # BMP is not: re-encoded to PNG
    for row, uri in zip(got, uris, strict=True):
        want = ref("search_document", "image:" + uri.split(",")[1])
        np.testing.assert_allclose(row, want, atol=1e-6)
    assert (emb.usage["requests"], emb.usage["images"]) == (1, 3)


def test_document_pages_go_as_inputs_and_are_pooled(standin):
    emb = make("doc_max_pages=2&doc_dpi=72")
    items = [
        Item("report", "document", pdf(["red", "blue", "green"])),
        Item("memo", "document", pdf(["white"])),
    ]
    got = emb.embed(items, purpose="query")
    (body,) = standin.bodies()  # three pages, one request
    assert body["input_type"] == "search_query" and len(body["inputs"]) == 3
    vectors = []
    for entry in body["inputs"]:
        (part,) = entry["content"]
        assert part["type"] == "image_url"
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        vectors.append(ref("search_query", "inputs:" + json.dumps([["image", url[22:]]])))
    first = vectors[0] / np.linalg.norm(vectors[0]) + vectors[1] / np.linalg.norm(vectors[1])
    np.testing.assert_allclose(got[0], first / np.linalg.norm(first), atol=1e-6)
    np.testing.assert_allclose(got[1], vectors[2], atol=1e-6)
    assert emb.notes["report"] == ["embedded 2 of 3 pages"]
    assert emb.usage["images"] == 3


def test_by_type_answer_shape_is_accepted(standin):
    standin.cohere_by_type = True
    got = make().embed([text_item("a", "one"), text_item("b", "two")])
    np.testing.assert_allclose(got[1], ref("search_document", "text:two"), atol=1e-6)


def test_truncation_is_mapped_reported_and_refusal_names_the_items(standin, caplog):
    names = [f"word{chr(97 + i)}" for i in range(20)]  # letters only: one piece each
    words = " ".join(names)  # 22 stand-in tokens with the two special ones
    emb = make("max_tokens=10&truncation=START")
    assert emb.params["truncate"] == "LEFT" and emb.params["max_tokens"] == 10
    with caplog.at_level("WARNING", logger="audit.embedders.bedrock"):
        got = emb.embed(
            [text_item("long", words), text_item("short", "hi"), text_item("edge", "a b c d")]
        )
    body = standin.bodies()[-1]
    assert (body["truncate"], body["max_tokens"]) == ("LEFT", 10)
    kept = " ".join(names[12:])  # LEFT keeps the last 10 - 2 pieces
    np.testing.assert_allclose(got[0], ref("search_document", "text:" + kept), atol=1e-6)
    counts = emb.describe()["truncation"]["counts"]
    # "long": ~17 tokens at 4 chars/token > 10; "edge": 7 bytes + 2 > 10 is false -> none
    assert counts == {"over": 0, "reported": 0, "likely": 1, "possible": 0}
    assert "1 text item(s) likely and 0 possibly over the limit of 10 tokens" in caplog.text
    assert "truncate=LEFT" in emb.notes["long"][0]
    strict = make("max_tokens=10&truncation=NONE")
    with pytest.raises(BedrockCallError, match=r"long, short: ValidationException.*over the limit"):
        strict.embed([text_item("long", words), text_item("short", "hi")])


def test_throttled_batch_is_retried_once(standin):
    standin.inject("throttle", times=1)
    emb = make()
    got = emb.embed([text_item(f"t{i}", f"x{i}") for i in range(5)])
    np.testing.assert_allclose(got[3], ref("search_document", "text:x3"), atol=1e-6)
    usage = emb.usage
    assert (usage["requests"], usage["retries"], usage["throttles"]) == (2, 1, 1)
    assert usage["text_chars"] == 10  # counted once, for the answered request


@pytest.mark.parametrize(
    ("kind", "message"),
    [("nan", r"b2 \(NaN/inf values\)"), ("wrong_length", r"shape \(1535,\) for item 'b2'")],
)
def test_a_bad_vector_in_a_batch_names_its_item(standin, kind, message):
    standin.inject(kind, match="broken")
    with pytest.raises(EmbeddingError, match=message) as info:
        make().embed([text_item("b1", "fine"), text_item("b2", "broken"), text_item("b3", "ok")])
    assert "b1" not in str(info.value) and "b3" not in str(info.value)
    assert len(standin.requests) == 1  # one batch, not retried


def test_wrong_vector_count_is_an_error_naming_the_batch(standin, monkeypatch):
    import bedrock_standin_extra as extra

    real = extra.cohere
    monkeypatch.setattr(extra, "cohere", lambda *a, **k: real(*a, **k) | {"embeddings": [[0.1]]})
    with pytest.raises(EmbeddingError, match=r"1 vector\(s\) for a request of 2 part\(s\)"):
        make().embed([text_item("a", "x"), text_item("b", "y")])


def test_oversized_image_is_refused_before_sending(standin):
    noise = np.random.default_rng(0).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG", compress_level=0)
    assert len(buf.getvalue()) > 5_000_000
    with pytest.raises(BadItemsError) as info:
        make().embed(
            [Item("big", "image", buf.getvalue()), Item("ok", "image", image_bytes("red"))]
        )
    (error,) = info.value.errors
    assert error.item_id == "big" and "5,000,000-byte image limit" in error.reason
    assert standin.requests == []


def test_batches_respect_the_payload_cap_and_keep_order():
    parts = [Part("image", "A" * 6_000_000, "png") for _ in range(5)]
    groups = batch_jobs(parts, [f"i{n}" for n in range(5)])
    assert groups == [[0, 1, 2], [3, 4]]  # 3 x ~6 MB fit under 20 MB, a fourth does not
    texts = [Part("text", f"t{n}") for n in range(200)]
    assert [len(g) for g in batch_jobs(texts, [str(n) for n in range(200)])] == [96, 96, 8]
    with pytest.raises(Exception, match="over the documented ~20 MB payload cap"):
        batch_jobs([Part("text", "x" * (MAX_REQUEST_BYTES + 1))], ["huge"])


def test_s3_items_are_refused_for_cohere(standin):
    with pytest.raises(BadItemsError, match="only Nova and Marengo accept S3 sources"):
        make().embed([Item("s3", "image", "s3://bucket/cat.png")])


@pytest.mark.parametrize(
    "body",
    [
        {"input_type": "search_document", "texts": ["a"], "extra": 1},
        {"texts": ["a"]},
        {"input_type": "search", "texts": ["a"]},
        {"input_type": "search_query", "texts": ["a"], "images": ["data:image/png;base64,AA=="]},
        {"input_type": "search_query", "texts": ["a"] * 97},
        {"input_type": "search_query", "texts": ["a"], "output_dimension": 384},
        {"input_type": "search_query", "texts": ["a"], "truncate": "END"},
        {"input_type": "search_query", "texts": ["a"], "embedding_types": ["float16"]},
        {"input_type": "search_query", "images": ["data:image/png;base64,/9j/4AAQ"]},
        {"input_type": "search_query", "inputs": [{"content": [{"type": "audio"}]}]},
    ],
    ids=[
        "unknown-field",
        "missing-input-type",
        "bad-input-type",
        "texts-and-images",
        "97-texts",
        "dim-384",
        "truncate-END",
        "bad-embedding-type",
        "jpeg-as-png",
        "bad-part-type",
    ],
)
def test_standin_rejects_cohere_bodies_the_service_would_reject(standin, body):
    import boto3

    client = boto3.client("bedrock-runtime")
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=COHERE, body=json.dumps(body))
    good = {"input_type": "search_query", "texts": ["a"]}
    answer = json.loads(
        client.invoke_model(modelId=f"us.{COHERE}", body=json.dumps(good))["body"].read()
    )
    assert len(answer["embeddings"][0]) == 1536 and answer["response_type"] == "embeddings_floats"
