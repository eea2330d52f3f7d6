"""Request budget and request/cost counters of the Bedrock embedder, against the stand-in.

Counters are checked against what the stand-in itself recorded (requests received, body
sizes) and against the items counted by hand.
"""

from __future__ import annotations

import io
import json
import wave

import pytest
from bedrock_standin import NOVA, standin_env
from PIL import Image

from audit.embedders.bedrock import BudgetExceededError, from_spec
from audit.items import Item, text_item

FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005"


@pytest.fixture
def standin(monkeypatch, tmp_path):
    with standin_env(monkeypatch, tmp_path) as s:
        yield s


def make(options: str = ""):
    emb = from_spec(f"{NOVA}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def wav(seconds: float, rate: int = 4000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes([128]) * int(seconds * rate))
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (5, 5), "red").save(buf, format="PNG")
    return buf.getvalue()


def test_counters_match_what_the_server_received(standin):
    standin.inject("throttle", match="second")
    emb = make()
    emb.embed(
        [
            text_item("a", "first text"),  # 10 characters
            text_item("b", "second"),  # 6 characters, throttled once
            Item("img", "image", png()),
            Item("clip", "audio", wav(1.5)),
        ]
    )
    usage = emb.usage
    sizes = [len(json.dumps(r.body, separators=(",", ":"))) for r in standin.requests]
    assert usage["requests"] == len(standin.requests) == 5
    assert (usage["retries"], usage["throttles"]) == (1, 1)
    assert usage["bytes_sent"] == sum(sizes)
    assert (usage["text_chars"], usage["images"]) == (16, 1)
    assert usage["media_seconds"] == pytest.approx(1.5)
    assert usage["max_requests"] is None


def test_budget_refuses_a_batch_before_sending(standin):
    emb = make("max_requests=3")
    emb.embed([text_item("a", "one"), text_item("b", "two")])
    with pytest.raises(BudgetExceededError, match=r"needs 2 request\(s\) but 2 of max_requests=3"):
        emb.embed([text_item("c", "three"), text_item("d", "four")])
    assert len(standin.requests) == 2
    emb.embed([text_item("e", "five")])  # exactly the one request left
    assert len(standin.requests) == emb.usage["requests"] == 3


def test_retries_spend_the_budget_and_stop_at_it(standin):
    standin.inject("throttle", times=10)
    emb = make("max_requests=2")
    with pytest.raises(BudgetExceededError, match=r"before sending a retry for item 'q'"):
        emb.embed([text_item("q", "hello")])
    assert len(standin.requests) == 2 == emb.usage["requests"]


def test_siblings_share_the_budget_and_describe_reports_usage(standin):
    emb = make("max_requests=2")
    emb.embed([text_item("a", "x")])
    emb.embed([text_item("b", "y")], dim=256)  # the 256-d sibling sends this one
    assert standin.bodies()[1]["singleEmbeddingParams"]["embeddingDimension"] == 256
    with pytest.raises(BudgetExceededError):
        emb.at_dim(1024).embed([text_item("c", "z")])
    described = emb.describe()
    assert described["usage"]["requests"] == 2 and described["usage"]["max_requests"] == 2
    json.dumps(described)  # the report stores it as JSON
    assert "usage" not in described["params"]  # counters never enter the fingerprint


@pytest.mark.parametrize("bad", ["max_requests=0", "max_requests=-1", "max_requests=x"])
def test_invalid_budget_is_refused(bad):
    with pytest.raises(ValueError, match="max_requests"):
        from_spec(f"{NOVA}?{bad}")
