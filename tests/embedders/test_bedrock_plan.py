"""plan_usage: what embed() would send, counted offline, against the counters of a real run.

For each Bedrock model, the plan of a batch (computed with no client, no credentials, no
network) must equal the usage counters after embedding the same batch against the
stand-ins with no faults; under an injected throttle the real run shows the retry (one
more request and its bytes) and the plan does not.
"""

from __future__ import annotations

import io
import json
import wave
from dataclasses import asdict

import pytest
from bedrock_async_standin import s3_standin
from bedrock_standin import COHERE, MARENGO, NOVA, TITAN_MM, TITAN_TEXT, standin_env
from media_bytes import mp4
from PIL import Image

from audit.embedders.bedrock import BedrockEmbedder, from_spec
from audit.items import BadItemsError, Item, text_item

BUCKET = "mme-audit-test"
FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005&poll_interval=0.01"
OUT = f"s3_output=s3://{BUCKET}/jobs"
FAKE_MP4 = mp4(2)  # a real video: validation decodes its first frame


def make(model: str, options: str = "") -> BedrockEmbedder:
    emb = from_spec(f"{model}?{FAST}" + (f"&{options}" if options else ""))
    emb.progress = False
    return emb


def png(color: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 9), color).save(buf, format="PNG")
    return buf.getvalue()


def pdf(n_pages: int) -> bytes:
    pages = [Image.new("RGB", (30, 40), c) for c in ("red", "green", "blue")[:n_pages]]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:])
    return buf.getvalue()


def wav(seconds: float, rate: int = 2000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes([128]) * int(seconds * rate))
    return buf.getvalue()


def texts(n: int) -> list[Item]:
    return [text_item(f"t{i}", f"item {i}: a short caption ünïcode") for i in range(n)]


def counters(usage: dict) -> dict:
    """The counters a plan predicts (polls depend on job duration, not on the items)."""
    return {k: v for k, v in usage.items() if k not in ("polls", "max_requests")}


def plan_dict(emb: BedrockEmbedder, items: list[Item], **kwargs) -> dict:
    plan = asdict(emb.plan_usage(items, **kwargs))
    plan["media_seconds"] = round(plan["media_seconds"], 3)
    return counters(plan)


CASES = {
    "nova": (
        NOVA,
        "dim=1024",
        lambda: [
            *texts(3),
            Item("img", "image", png("red")),
            Item("doc", "document", pdf(2)),
            Item("clip", "audio", wav(1.5)),
        ],
    ),
    "titan-text": (TITAN_TEXT, "dim=512", lambda: texts(4)),
    "titan-mm": (
        TITAN_MM,
        "",
        lambda: [*texts(2), Item("img", "image", png("blue")), Item("doc", "document", pdf(3))],
    ),
    "cohere": (
        COHERE,
        "dim=256",
        lambda: [
            *texts(100),
            Item("a", "image", png("red")),
            Item("b", "image", png("teal")),
            Item("d1", "document", pdf(3)),
            Item("d2", "document", pdf(1)),
        ],
    ),
    "marengo-profile": (f"us.{MARENGO}", "", lambda: [*texts(3), Item("img", "image", png("red"))]),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("purpose", ["index", "query"])
def test_plan_equals_the_counters_of_a_fault_free_run(monkeypatch, tmp_path, case, purpose):
    model, options, build = CASES[case]
    items = build()
    emb = make(model, options)
    plan = plan_dict(emb, items, purpose=purpose)
    assert emb._shared.transport._client is None  # planning built no client
    with standin_env(monkeypatch, tmp_path) as standin:
        emb.embed(items, purpose=purpose)
        sent = len(standin.requests)
    assert plan == counters(emb.usage)
    assert plan["requests"] == sent and plan["retries"] == 0


def test_plan_of_async_jobs_equals_the_run(monkeypatch, tmp_path):
    items_nova = [Item("talk", "audio", wav(45.0)), Item("short", "audio", wav(2.0))]
    items_marengo = [
        text_item("q", "a dog on a beach"),
        Item("clip", "audio", wav(12.0)),
        Item("ad", "video", FAKE_MP4),
        Item("s3img", "image", f"s3://{BUCKET}/cat.png"),
    ]
    nova, marengo = make(NOVA, OUT), make(f"us.{MARENGO}", f"{OUT}&clip_seconds=4")
    plans = [plan_dict(nova, items_nova), plan_dict(marengo, items_marengo)]
    with standin_env(monkeypatch, tmp_path) as standin, s3_standin(monkeypatch, standin) as s3:
        s3.put_object(Bucket=BUCKET, Key="cat.png", Body=png("red"))
        nova.embed(items_nova)
        marengo.embed(items_marengo)
    assert plans[0] == counters(nova.usage)
    assert plans[1] == counters(marengo.usage)
    assert (plans[1]["requests"], plans[1]["async_jobs"]) == (4, 2)  # text, S3 image sync
    assert plans[1]["media_seconds"] == pytest.approx(12.0 + 2.0)  # the WAV and the 2 s MP4


def test_a_throttled_retry_shows_in_the_run_but_not_in_the_plan(monkeypatch, tmp_path):
    items = texts(120)
    emb = make(COHERE)
    plan = plan_dict(emb, items)
    with standin_env(monkeypatch, tmp_path) as standin:
        standin.inject("throttle", times=1, match="item 0:")
        emb.embed(items)
        throttled = standin.requests[0].body
    usage = counters(emb.usage)
    retried_bytes = len(json.dumps(throttled, separators=(",", ":")))
    assert usage["requests"] == plan["requests"] + 1 == 3
    assert (usage["retries"], usage["throttles"]) == (1, 1)
    assert usage["bytes_sent"] == plan["bytes_sent"] + retried_bytes
    same = ("async_jobs", "text_chars", "images", "media_seconds")
    assert {k: usage[k] for k in same} == {k: plan[k] for k in same}


def test_plan_follows_the_requested_size_and_needs_no_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    emb = make(NOVA)
    items = texts(2)
    full, small = plan_dict(emb, items), plan_dict(emb, items, dim=256)
    # the same requests; each body says "256" instead of "3072": one byte less
    assert small["bytes_sent"] == full["bytes_sent"] - 2
    assert small["requests"] == full["requests"] == 2
    assert emb._shared.transport._client is None
    with standin_env(monkeypatch, tmp_path) as standin:
        emb.embed(items, dim=256)
        assert all(
            b["singleEmbeddingParams"]["embeddingDimension"] == 256 for b in standin.bodies()
        )
    assert small == counters(emb.usage)


def test_plan_refuses_what_embed_refuses():
    emb = make(COHERE)
    with pytest.raises(BadItemsError) as info:
        emb.plan_usage([Item("bad", "image", b"not an image"), *texts(1)])
    assert [e.item_id for e in info.value.errors] == ["bad"]
    with pytest.raises(ValueError, match="s3_output"):
        make(f"us.{MARENGO}").plan_usage([Item("clip", "audio", wav(3.0))])
    with pytest.raises(ValueError, match="purpose must be one of"):
        emb.plan_usage(texts(1), purpose="search")
    assert emb.plan_usage([]).requests == 0
    assert emb.notes == {}  # planning records no notes
