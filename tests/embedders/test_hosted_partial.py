"""Answers paid for survive a vanished endpoint, and a refused connection gives up fast.

A :class:`~vanishing_proxy.VanishingProxy` in front of the Bedrock / Google stand-ins
forwards N requests and then disappears (its port refuses connections). The cache must
then hold exactly the items of those N answers, the error must say what happened, and a
re-run straight at the stand-in must send exactly total - N requests and end with the
vectors of a clean run. Expected vectors come from the stand-ins' own generators.
"""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
from bedrock_standin import TITAN_TEXT, reference_vector, standin_env
from google_standin import GoogleStandIn, gemini_vector, google_env, mm_vector, service_account_file
from vanishing_proxy import VanishingProxy

from audit.cache import CachedEmbedder, EmbeddingCache, cache_key
from audit.embedders.bedrock import from_spec as bedrock_spec
from audit.embedders.bedrock._transport import BedrockCallError
from audit.embedders.google.gemini import GoogleCallError
from audit.embedders.google.gemini import from_spec as gemini_spec
from audit.embedders.google.vertex import from_spec as vertex_spec
from audit.items import Item, text_item

FAST = "max_attempts=6&base_delay=0.001&max_delay=0.005"


def texts(n: int, tag: str) -> list[Item]:
    return [text_item(f"{tag}{i}", f"sentence number {i} about {tag}") for i in range(n)]


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def cached_texts(cache: CachedEmbedder, items: list[Item]) -> set[str]:
    """Texts of the items whose vectors the cache holds (under the embedder's key)."""
    keys = {cache_key(cache.fingerprint, it, "index"): str(it.content) for it in items}
    return {keys[k] for k in cache.store.get_many(list(keys))}


def check_notes(exc: BaseException, n_items: int, path: object) -> None:
    notes = "\n".join(getattr(exc, "__notes__", []))
    assert f"{n_items} embedding(s) finished before this error are saved" in notes
    assert str(path) in notes


# -- Bedrock ---------------------------------------------------------------------------


def bedrock(options: str = ""):
    emb = bedrock_spec(f"{TITAN_TEXT}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def test_bedrock_vanished_endpoint_keeps_every_answer(monkeypatch, tmp_path):
    total, n = 40, 13  # N falls inside the second of five batches of 8
    items = texts(total, "b")
    path = tmp_path / "cache.sqlite"
    with standin_env(monkeypatch, tmp_path) as standin:
        with VanishingProxy(standin.url, n) as proxy:
            emb = bedrock(f"endpoint_url={proxy.url}")
            emb.batch_size = 8
            with pytest.raises(BedrockCallError) as info:
                CachedEmbedder(emb, path, chunk_size=16).embed(items)
            emb.close()
        assert proxy.forwarded == proxy.answered_ok == len(standin.requests) == n
        assert "ConnectionRefused" in str(info.value)
        assert f"connection refused by {proxy.url}" in str(info.value)
        check_notes(info.value, n, path)
        answered = {b["inputText"] for b in standin.bodies()}
        rerun = CachedEmbedder(bedrock(), path, chunk_size=16)
        assert EmbeddingCache(path).count() == n
        assert cached_texts(rerun, items) == answered
        got = rerun.embed(items)
        assert len(standin.requests) - n == total - n  # only the missing items were sent
        assert (rerun.hits, rerun.misses) == (n, total - n)
        clean = bedrock().embed(items)
    np.testing.assert_array_equal(got, clean)
    expected = np.stack([reference_vector(TITAN_TEXT, "", str(it.content), 1024) for it in items])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def free_port() -> int:
    """A port nothing listens on (bound, then closed: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bedrock_refused_connection_gives_up_after_one_quick_retry(monkeypatch, tmp_path):
    port = free_port()
    with standin_env(monkeypatch, tmp_path):
        emb = bedrock(f"endpoint_url=http://127.0.0.1:{port}")  # max_attempts=6
        with pytest.raises(BedrockCallError) as info:
            emb.embed([text_item("q1", "hello")])
    (failure,) = info.value.failures
    assert (failure.item_id, failure.code, failure.attempts) == ("q1", "ConnectionRefused", 2)
    assert emb.usage["requests"] == 2  # attempts counted by the transport, not seconds
    assert f"connection refused by http://127.0.0.1:{port}" in str(info.value)
    assert "not throttling" in str(info.value)


def test_bedrock_throttling_keeps_its_retries(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as standin:
        standin.inject("throttle", times=4)
        bedrock().embed([text_item("q1", "hello")])
        assert len(standin.requests) == 5  # four throttles retried, then the answer


# -- Google (Gemini API and Vertex multimodal) -----------------------------------------


@pytest.fixture(scope="module")
def server():
    with GoogleStandIn() as s:
        yield s


@pytest.fixture(scope="module")
def key_file(server, tmp_path_factory):
    return service_account_file(tmp_path_factory.mktemp("adc") / "sa.json", server.url + "/token")


@pytest.fixture
def google(server, key_file, monkeypatch, tmp_path):
    server.reset()
    google_env(monkeypatch, server, key_file, tmp_path)
    yield server
    server.reset()


def gemini(options: str = ""):
    emb = gemini_spec(f"gemini-embedding-001?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def vertex(endpoint: str, options: str = ""):
    spec = f"multimodalembedding@001?{FAST}&project=proj-9&api_endpoint={endpoint}"
    emb = vertex_spec(spec + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def test_gemini_vanished_endpoint_keeps_every_answered_batch(google, tmp_path):
    total, per_request, n = 30, 4, 3
    requests = math.ceil(total / per_request)
    items = texts(total, "g")
    path = tmp_path / "cache.sqlite"
    with VanishingProxy(google.url, n) as proxy:
        emb = gemini(f"batch_size={per_request}&base_url={proxy.url}")
        with pytest.raises(GoogleCallError) as info:
            CachedEmbedder(emb, path).embed(items)
        emb.close()
    assert proxy.forwarded == proxy.answered_ok == len(google.requests) == n
    assert f"connection refused by {proxy.url}" in str(info.value)
    check_notes(info.value, n * per_request, path)
    answered = {r["content"]["parts"][0]["text"] for b in google.bodies() for r in b["requests"]}
    assert len(answered) == n * per_request
    rerun = CachedEmbedder(gemini(f"batch_size={per_request}"), path)
    assert EmbeddingCache(path).count() == n * per_request
    assert cached_texts(rerun, items) == answered
    got = rerun.embed(items)
    assert len(google.requests) - n == requests - n
    clean = gemini(f"batch_size={per_request}").embed(items)
    np.testing.assert_array_equal(got, clean)
    expected = np.stack(
        [unit(gemini_vector("RETRIEVAL_DOCUMENT", str(it.content), 3072)) for it in items]
    )
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_vertex_vanished_endpoint_keeps_every_answer(google, tmp_path):
    total, n = 12, 5  # one request per text
    items = texts(total, "v")
    path = tmp_path / "cache.sqlite"
    with VanishingProxy(google.url, n) as proxy:
        emb = vertex(proxy.url)
        with pytest.raises(GoogleCallError) as info:
            CachedEmbedder(emb, path).embed(items)
        emb.close()
    assert proxy.forwarded == proxy.answered_ok == len(google.requests) == n
    assert f"connection refused by {proxy.url}" in str(info.value)
    check_notes(info.value, n, path)
    answered = {b["instances"][0]["text"] for b in google.bodies()}
    rerun = CachedEmbedder(vertex(google.url), path)
    assert EmbeddingCache(path).count() == n
    assert cached_texts(rerun, items) == answered
    got = rerun.embed(items)
    assert len(google.requests) - n == total - n
    clean = vertex(google.url).embed(items)
    np.testing.assert_array_equal(got, clean)
    expected = np.stack([unit(mm_vector("text", 1408, str(it.content))) for it in items])
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.parametrize("backend", ["gemini", "vertex"])
def test_google_refused_connection_gives_up_after_one_quick_retry(google, backend):
    dead = f"http://127.0.0.1:{free_port()}"
    emb = gemini(f"base_url={dead}") if backend == "gemini" else vertex(dead)
    with pytest.raises(GoogleCallError) as info:
        emb.embed([text_item("q1", "hello")])
    (failure,) = info.value.failures
    assert (failure.item_id, failure.code, failure.attempts) == ("q1", "ConnectionRefused", 2)
    assert emb.usage["requests"] == 2
    assert f"connection refused by {dead}" in str(info.value)


def test_the_unreachable_message_names_only_scheme_host_and_port():
    from botocore.exceptions import EndpointConnectionError

    from audit.embedders._unreachable import unreachable

    url = "https://user:s3cr3t@bedrock.example:8443/model/x/invoke?X-Amz-Signature=abc"
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as cause:
            raise EndpointConnectionError(endpoint_url=url, error=cause) from cause
    except EndpointConnectionError as exc:
        gone = unreachable(exc)
    assert gone is not None and gone.refused and gone.code == "ConnectionRefused"
    assert gone.endpoint == "https://bedrock.example:8443"
    message = gone.message(2)
    assert "s3cr3t" not in message and "Signature" not in message and "user" not in message
    assert unreachable(TimeoutError("read timed out")) is None  # timeouts keep their retries
