"""The fingerprints (cache keys) of the hosted backends never move.

A fingerprint hashes the backend's output-changing ``params``; a cache keys every vector
by it, so a refactor that renames, reorders or drops a param silently throws away every
cached vector (or, worse, mixes vectors of two configurations). Each value below was
computed by the code *before* the hosted backends were split into families (issue 17,
``main`` at 3c19b98), by building the spec and reading ``emb.fingerprint``; the test
rebuilds it with today's code. Building a hosted embedder sends nothing and needs no
credentials, so this runs offline.
"""

from __future__ import annotations

import pytest

from audit.embedders import create_embedder

NOVA = "bedrock:amazon.nova-2-multimodal-embeddings-v1:0"
NOVA_ALL = (
    "?dim=1024&index_purpose=clustering&query_purpose=text_retrieval&truncation=start"
    "&image_detail=document_image&video_mode=audio_video_separate&async_mode=always"
    "&segment_seconds=10&segment_chars=1000&s3_output=s3://bkt/out"
)
COHERE_ALL = (
    "?dim=512&index_purpose=CLUSTERING&query_purpose=classification&truncation=start"
    "&max_tokens=1000"
)
MARENGO_ALL = "?truncation=none&video_embedding=audio&clip_seconds=4"

# spec -> (hash of the spec's fingerprint, size of a served sibling, its hash)
PINNED: dict[str, tuple[str, int | None, str | None]] = {
    NOVA: ("19a62c2ae040b783", 256, "b9002256e6cc04b2"),
    NOVA + NOVA_ALL: ("5135d402b87409c8", 256, "ae55a9951b8ae2c1"),
    "bedrock:us.amazon.nova-2-multimodal-embeddings-v1:0?dim=256": ("6612fd4c1f0e6d1f", None, None),
    "bedrock:amazon.titan-embed-text-v2:0": ("67aba5b01ce9c3bc", 256, "fe117b65529c7a51"),
    "bedrock:amazon.titan-embed-text-v2:0?dim=512&truncation=none": (
        "d0f890afcdacac79",
        256,
        "fe117b65529c7a51",
    ),
    "bedrock:amazon.titan-embed-image-v1": ("6bb770fb7154afbd", 256, "5236d0c83999dd0a"),
    "bedrock:amazon.titan-embed-image-v1?dim=384&doc_max_pages=3&doc_dpi=72": (
        "6b24a9f3e16c1113",
        256,
        "50fe5633e87f8366",
    ),
    "bedrock:cohere.embed-v4:0": ("0596671e0d9ead7d", 256, "aa0f4f9d47f963cf"),
    "bedrock:cohere.embed-v4:0" + COHERE_ALL: ("903583c821217911", 256, "5bbece69501271cc"),
    "bedrock:twelvelabs.marengo-embed-2-7-v1:0?s3_output=s3://bkt/out": (
        "90c395b70a8f1d1f",
        None,
        None,
    ),
    "bedrock:us.twelvelabs.marengo-embed-2-7-v1:0": ("f10f236cd8b23563", None, None),
    "bedrock:us.twelvelabs.marengo-embed-2-7-v1:0" + MARENGO_ALL: ("a1cc31a4a150c454", None, None),
    "gemini:gemini-embedding-001": ("7d7801820ae7197a", None, None),
    "gemini:gemini-embedding-001?dim=768&task=clustering&long_text=error": (
        "e66a4f97d084a1bc",
        None,
        None,
    ),
    "gemini:gemini-embedding-001?vertexai=1&index_task=semantic_similarity": (
        "8f734e3f4177c4d7",
        None,
        None,
    ),
    "vertex:multimodalembedding@001": ("1afdba5ab229ccf7", 512, "69da8ffdc4111e31"),
    "vertex:multimodalembedding@001?dim=512&documents=1&doc_max_pages=2": (
        "1520bc643b90365f",
        256,
        "f96f7748527c41b5",
    ),
}


@pytest.mark.parametrize("spec", list(PINNED))
def test_fingerprint_is_the_one_computed_before_the_family_split(spec: str) -> None:
    digest, sibling_dim, sibling_digest = PINNED[spec]
    emb = create_embedder(spec)
    try:
        name = spec.partition("?")[0]
        assert emb.fingerprint == f"{name}@{digest}"
        if sibling_dim is not None:
            sibling = emb.at_dim(sibling_dim)
            assert sibling.fingerprint == f"{name}@{sibling_digest}"
            assert sibling.params["model_id"] == emb.params["model_id"]
    finally:
        emb.close()


def test_every_bedrock_model_is_pinned() -> None:
    """A new model (or family) gets its fingerprint pinned here too."""
    from audit.embedders.bedrock._families import MODELS, resolve_model

    pinned = {
        resolve_model(spec.partition("?")[0].removeprefix("bedrock:")).model_id
        for spec in PINNED
        if spec.startswith("bedrock:")
    }
    assert pinned == set(MODELS)
