"""GeminiEmbedder through google-genai against the local stand-in (Gemini API and Vertex AI).

The SDK reaches the stand-in through its standard endpoint override
(``GOOGLE_GEMINI_BASE_URL`` / ``GOOGLE_VERTEX_BASE_URL``) and its standard credentials
(``GEMINI_API_KEY``; a service-account key file as Application Default Credentials).
Expected vectors come from the stand-in's hash-seeded generator applied to what the
documentation says the request must carry, so a wrong task type, size, batch or order
changes the answer.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from google_standin import (
    API_KEY,
    GoogleStandIn,
    gemini_vector,
    google_env,
    service_account_file,
)

from audit.embedders.base import EmbeddingError
from audit.embedders.google.gemini import (
    BudgetExceededError,
    GeminiEmbedder,
    GoogleCallError,
    from_spec,
)
from audit.items import BadItemsError, text_item

FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005"


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


def make(options: str = "") -> GeminiEmbedder:
    """An embedder with fast retries; ``options`` may override them."""
    merged = dict(kv.split("=", 1) for kv in FAST.split("&"))
    merged |= dict(kv.split("=", 1) for kv in options.split("&") if kv)
    emb = from_spec("gemini-embedding-001?" + "&".join(f"{k}={v}" for k, v in merged.items()))
    emb.progress = False
    return emb


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def texts(n: int) -> list:
    return [text_item(f"t{i}", f"sentence number {i}") for i in range(n)]


def test_bodies_and_vectors_for_both_purposes(standin):
    emb = make()
    items = [text_item("a", "a red bicycle"), text_item("b", "two cats")]
    got = emb.embed(items)
    (body,) = standin.bodies("gemini")
    assert body == {
        "requests": [
            {
                "content": {"parts": [{"text": text}], "role": "user"},
                "taskType": "RETRIEVAL_DOCUMENT",
                "outputDimensionality": 3072,
                "model": "models/gemini-embedding-001",
            }
            for text in ("a red bicycle", "two cats")
        ]
    }
    assert standin.requests[0].headers["x-goog-api-key"] == API_KEY
    for row, text in zip(got, ("a red bicycle", "two cats"), strict=True):
        np.testing.assert_allclose(
            row, unit(gemini_vector("RETRIEVAL_DOCUMENT", text, 3072)), atol=1e-6
        )
    query = emb.embed(items[:1], purpose="query")
    assert standin.bodies()[-1]["requests"][0]["taskType"] == "RETRIEVAL_QUERY"
    np.testing.assert_allclose(
        query[0], unit(gemini_vector("RETRIEVAL_QUERY", "a red bicycle", 3072)), atol=1e-6
    )


def test_smaller_size_is_requested_and_renormalised(standin):
    small = make("dim=768")
    got = small.embed([text_item("a", "hello there")])
    assert standin.bodies()[0]["requests"][0]["outputDimensionality"] == 768
    raw = gemini_vector("RETRIEVAL_DOCUMENT", "hello there", 768)
    assert np.linalg.norm(raw) < 0.9  # the service's 768-d answer is not normalised
    np.testing.assert_allclose(got[0], unit(raw), atol=1e-6)
    assert np.linalg.norm(got[0]) == pytest.approx(1.0, abs=1e-6)
    # the documented behaviour (truncation from the end) makes client truncation equal
    full = make().embed([text_item("a", "hello there")], dim=768)
    np.testing.assert_allclose(full[0], got[0], atol=1e-6)
    assert small.fingerprint != make().fingerprint
    assert small.matryoshka_dims == (768,)


def test_one_task_for_both_purposes(standin):
    emb = make("task=semantic_similarity")
    emb.embed([text_item("a", "x y")], purpose="index")
    emb.embed([text_item("b", "x z")], purpose="query")
    assert [b["requests"][0]["taskType"] for b in standin.bodies()] == ["SEMANTIC_SIMILARITY"] * 2
    assert emb.fingerprint != make().fingerprint


def test_batches_hold_at_most_100_texts_and_keep_order(standin):
    items = texts(250)
    got = make("max_workers=3").embed(items)
    batches = sorted(
        ([r["content"]["parts"][0]["text"] for r in b["requests"]] for b in standin.bodies()),
        key=len,
        reverse=True,
    )  # requests run concurrently: arrival order is free, contents are not
    chunks = [[str(it.content) for it in items[a:b]] for a, b in ((0, 100), (100, 200), (200, 250))]
    assert sorted(batches) == sorted(chunks)
    want = np.stack(
        [unit(gemini_vector("RETRIEVAL_DOCUMENT", str(it.content), 3072)) for it in items]
    )
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_standin_refuses_101_texts_like_the_service(standin):
    emb = make("batch_size=100")
    emb.batch_size = 101  # bypass the client's own limit to check the stand-in's
    with pytest.raises(GoogleCallError, match="at most 100 requests can be in one batch"):
        emb.embed(texts(101))


def test_long_text_is_reported_never_silent(standin, caplog):
    long = " ".join(["word"] * 2100)  # 2,100 words: over 2,048 tokens by any count
    emb = make()
    with caplog.at_level(logging.WARNING, logger="audit.embedders.google.gemini"):
        got = emb.embed([text_item("short", "fine"), text_item("long", long)])
    report = emb.describe()["truncation"]
    assert report["text_over_limit_estimated"] == 1
    assert report["item_ids"]["text_over_limit_estimated"] == ["long"]
    assert "long" in emb.notes and "short" not in emb.notes
    assert "long" in caplog.text
    # what came back is the embedding of the service-truncated text
    cut = " ".join(["word"] * 2048)
    np.testing.assert_allclose(
        got[1], unit(gemini_vector("RETRIEVAL_DOCUMENT", cut, 3072)), atol=1e-6
    )


def test_long_text_error_refuses_before_sending(standin):
    emb = make("long_text=error")
    with pytest.raises(BadItemsError, match=r"long.*2048-token"):
        emb.embed([text_item("ok", "fine"), text_item("long", "w " * 3000)])
    with pytest.raises(BadItemsError):
        emb.plan_usage([text_item("long", "w " * 3000)])
    assert standin.requests == []


def test_retries_after_throttling_are_counted(standin):
    standin.inject("throttle", times=2)
    emb = make()
    got = emb.embed([text_item("a", "hello")])
    np.testing.assert_allclose(
        got[0], unit(gemini_vector("RETRIEVAL_DOCUMENT", "hello", 3072)), atol=1e-6
    )
    usage = emb.usage
    assert (
        (usage["requests"], usage["retries"], usage["throttles"])
        == (3, 2, 2)
        == (
            len(standin.requests),
            2,
            2,
        )
    )


def test_client_errors_are_not_retried_and_name_the_items(standin):
    standin.inject("invalid")
    with pytest.raises(GoogleCallError, match=r"a: INVALID_ARGUMENT \(not retried\)"):
        make().embed([text_item("a", "hello")])
    assert len(standin.requests) == 1


def test_retries_stop_at_max_attempts(standin):
    standin.inject("unavailable", times=10)
    with pytest.raises(GoogleCallError, match=r"UNAVAILABLE \(still failing after 3 attempt"):
        make("max_attempts=3").embed([text_item("a", "hello")])
    assert len(standin.requests) == 3


def test_a_timeout_is_retried(standin):
    standin.inject("slow", seconds=1.0)
    emb = make("timeout=0.3")
    got = emb.embed([text_item("a", "hello")])
    assert emb.usage["retries"] == 1
    np.testing.assert_allclose(
        got[0], unit(gemini_vector("RETRIEVAL_DOCUMENT", "hello", 3072)), atol=1e-6
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("nan", r"unusable vectors for: a \(NaN/inf values\)"),
        ("wrong_length", r"shape \(3071,\) for item 'a'"),
        ("missing", r"answered 1 embedding\(s\) for 2 item\(s\): a, b"),
        ("malformed", r"MalformedResponse"),
    ],
)
def test_unusable_answers_name_the_item(standin, fault, message):
    standin.inject(fault)
    with pytest.raises(EmbeddingError, match=message):
        make().embed([text_item("a", "hello"), text_item("b", "there")])


def test_budget_is_checked_for_the_whole_call_before_sending(standin):
    emb = make("max_requests=2")
    with pytest.raises(BudgetExceededError, match=r"needs 3 request\(s\) but 0 of max_requests=2"):
        emb.embed(texts(250))
    assert standin.requests == []
    emb.embed(texts(150))  # exactly the two requests of the budget
    assert len(standin.requests) == emb.usage["requests"] == 2


def test_plan_equals_the_counters_of_a_clean_run(standin):
    emb = make("batch_size=3")
    items = [*texts(7), text_item("u", "naïve café, ünïcode")]
    plan = emb.plan_usage(items, purpose="query")
    assert standin.requests == []  # planning sends nothing
    emb.embed(items, purpose="query")
    usage = emb.usage
    assert plan.requests == usage["requests"] == 3
    assert isinstance(usage["text_chars"], int)
    assert plan.text_chars == usage["text_chars"] == sum(len(str(it.content)) for it in items)
    sizes = [len(json.dumps(b, separators=(",", ":"))) for b in standin.bodies()]
    assert plan.bytes_sent == usage["bytes_sent"] == sum(sizes)


def test_plan_works_offline_without_credentials(monkeypatch, tmp_path):
    from google_standin import ENV_VARS

    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    emb = from_spec("gemini-embedding-001?dim=1536")  # builds no client
    plan = emb.plan_usage(texts(120))
    assert (plan.requests, plan.text_chars) == (
        2,
        sum(len(f"sentence number {i}") for i in range(120)),
    )
    with pytest.raises(EmbeddingError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        emb.embed(texts(1))


def test_wrong_api_key_is_a_clear_error(standin, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "wrong-key")
    with pytest.raises(
        GoogleCallError, match=r"INVALID_ARGUMENT \(not retried\): API key not valid"
    ):
        make().embed([text_item("a", "hello")])
    assert len(standin.requests) == 1


def test_standin_refuses_a_request_without_api_key(standin):
    body = json.dumps({"requests": [{"model": "models/gemini-embedding-001",
                                     "content": {"parts": [{"text": "x"}]}}]}).encode()  # fmt: skip
    url = f"{standin.url}/v1beta/models/gemini-embedding-001:batchEmbedContents"
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 403
    assert json.loads(info.value.read())["error"]["status"] == "PERMISSION_DENIED"


def test_vertex_ai_surface(standin):
    emb = make("vertexai=1&project=proj-1&location=europe-west4&dim=256&max_workers=2")
    long = " ".join(["w"] * 2100)
    got = emb.embed([text_item("a", "hello"), text_item("long", long)], purpose="query")
    paths = {r.path for r in standin.requests}
    assert paths == {
        "/v1beta1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-embedding-001:predict"
    }
    assert sorted(b["instances"][0]["content"][:5] for b in standin.bodies()) == ["hello", "w w w"]
    assert standin.bodies()[0]["parameters"] == {"outputDimensionality": 256, "autoTruncate": True}
    assert all(b["instances"][0]["task_type"] == "RETRIEVAL_QUERY" for b in standin.bodies())
    assert all(r.headers["authorization"].startswith("Bearer ") for r in standin.requests)
    assert standin.token_requests >= 1  # ADC: the service-account key was exchanged
    np.testing.assert_allclose(
        got[0], unit(gemini_vector("RETRIEVAL_QUERY", "hello", 256)), atol=1e-6
    )
    report = emb.describe()["truncation"]
    assert report["text_truncated_by_service"] == 1 == report["text_over_limit_estimated"]
    assert emb.describe()["client"]["api"] == "vertex-ai"


def test_vertex_long_text_error_sends_auto_truncate_false(standin):
    make("vertexai=1&project=p&location=us-central1&long_text=error").embed([text_item("a", "hi")])
    assert standin.bodies()[0]["parameters"]["autoTruncate"] is False


def test_describe_is_json_and_holds_no_secrets(standin, caplog):
    emb = make("max_requests=5")
    with caplog.at_level(logging.DEBUG):
        emb.embed([text_item("a", "hello")])
    text = json.dumps(emb.describe())
    assert API_KEY not in text and API_KEY not in caplog.text
    described = emb.describe()
    assert described["usage"]["requests"] == 1 and described["usage"]["max_requests"] == 5
    assert "usage" not in described["params"]
    assert described["client"]["endpoint"] == standin.url


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gemini-embedding-001?api_key=abc", "looks like a credential"),
        ("gemini-embedding-001?dimm=768", "did you mean 'dim'"),
        ("gemini-embedding-001?dim=64", r"dim must be an int in \[128, 3072\]"),
        ("gemini-embedding-001?batch_size=101", r"batch_size must be in \[1, 100\]"),
        ("gemini-embedding-001?task=SEARCH", "index_task must be one of"),
        ("gemini-embedding-001?task=CLUSTERING&query_task=RETRIEVAL_QUERY", "either task or"),
        ("gemini-embedding-2-preview", "not supported"),
        ("gemini-embedding-001?vertexai=maybe", "vertexai=.* is not valid"),
    ],
)
def test_bad_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        from_spec(spec)


def test_missing_sdk_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.genai", None)
    emb = make()
    with pytest.raises(ImportError, match=r"mme-audit\[google\]"):
        emb.embed([text_item("a", "hello")])
