"""SafetyFilter and SafeEmbedder: fail closed, spy embedder, audit log without content."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from fakes import HashEmbedder
from PIL import Image
from safety_fakes import RaisingChecker, WordChecker

from audit.items import Item, text_item
from audit.safety import (
    BlockedItemsError,
    DecisionLog,
    SafeEmbedder,
    SafetyFilter,
    TermListChecker,
    policy_from_dict,
)
from audit.safety._text import ListEntry

POLICY = policy_from_dict(
    {"categories": {"offensive-term": "block", "rude": "flag"}, "default_action": "block"}
)
SECRET = "zanzibar-7731"  # distinctive content that must never reach the log


def _filter(tmp_path, *checkers):
    log = DecisionLog(tmp_path / "decisions.jsonl", policy_sha256=POLICY.sha256)
    terms = TermListChecker([ListEntry("shit", "offensive-term", "list:1")])
    return SafetyFilter([terms, *checkers], POLICY, log=log)


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "PNG")
    return buf.getvalue()


def test_blocked_item_never_reaches_the_wrapped_embedder(tmp_path):
    spy = HashEmbedder()
    safe = SafeEmbedder(spy, _filter(tmp_path))
    items = [text_item("ok", f"hello {SECRET}"), text_item("bad", f"sh1t {SECRET}")]
    with pytest.raises(BlockedItemsError) as err:
        safe.embed(items)
    assert err.value.item_ids == ["bad"] and "offensive-term" in str(err.value)
    assert spy.calls == []  # nothing of a batch with a blocked item was embedded
    batch = safe.embed_allowed(items)
    assert spy.calls == ["ok"]
    assert batch.allowed.tolist() == [True, False] and batch.blocked_ids == ["bad"]
    assert batch.vectors.shape == (1, spy.dim)
    np.testing.assert_allclose(batch.vectors[0], spy.embed([items[0]])[0], rtol=1e-6)
    assert np.allclose(safe.embed(items[:1]), spy.embed(items[:1]))


def test_flagged_items_are_embedded_and_logged(tmp_path):
    spy = HashEmbedder()
    safe = SafeEmbedder(spy, _filter(tmp_path, WordChecker({"darn": "rude"})))
    out = safe.embed([text_item("f", "darn it")])
    assert out.shape == (1, spy.dim) and spy.calls == ["f"]
    (record,) = DecisionLog(tmp_path / "decisions.jsonl").read()
    assert record["action"] == "flag"


def test_a_raising_checker_blocks_and_the_error_is_recorded(tmp_path):
    spy = HashEmbedder()
    safe = SafeEmbedder(spy, _filter(tmp_path, RaisingChecker()))
    with pytest.raises(BlockedItemsError, match="checker failed: RuntimeError: detector crashed"):
        safe.embed([text_item("a", "a perfectly fine sentence")])
    assert spy.calls == []
    (record,) = DecisionLog(tmp_path / "decisions.jsonl").read()
    (err,) = [d for d in record["decisions"] if d["error"]]
    assert err["checker"] == "raiser" and err["category"] == "checker-error"
    assert not err["allowed"] and record["action"] == "block"


def test_checker_error_cannot_be_configured_away():
    from audit.safety import PolicyError

    with pytest.raises(PolicyError, match="errors always block"):
        policy_from_dict({"categories": {"checker-error": "allow"}})


def test_unreadable_content_and_unchecked_modality_block(tmp_path):
    filt = _filter(tmp_path)
    missing = Item("gone", "image", tmp_path / "nope.png")
    image = Item("img", "image", _png((1, 2, 3)))  # no image checker in this policy
    v_missing, v_image = filt.screen([missing, image])
    assert v_missing.blocked and v_missing.content_sha256 is None
    assert v_image.blocked and v_image.categories == ("unchecked",)
    allow = policy_from_dict({"unchecked_action": "allow"})
    assert SafetyFilter([], allow).screen([image])[0].action == "allow"


def test_log_holds_every_decision_and_no_content(tmp_path):
    filt = _filter(tmp_path, WordChecker({"darn": "rude"}))
    png = _png((200, 10, 10))
    items = [
        text_item("t1", f"{SECRET} is a place"),
        text_item("t2", f"darn {SECRET}"),
        text_item("t3", f"{SECRET} sh1t"),
        Item("i1", "image", png),
    ]
    verdicts = filt.screen(items)
    filt.screen(items[:1])  # the second time it is served from memory, and logged again
    raw = (tmp_path / "decisions.jsonl").read_text()
    for needle in (SECRET, "zanzibar", "place", "darn", "sh1t", png.hex()[:64]):
        assert needle not in raw, needle
    records = [json.loads(line) for line in raw.splitlines()]
    assert [r["item_id"] for r in records] == ["t1", "t2", "t3", "i1", "t1"]
    assert [r["action"] for r in records] == ["allow", "flag", "block", "block", "allow"]
    assert [r["cached"] for r in records] == [False, False, False, False, True]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    for r, it, v in zip(records, items, verdicts, strict=False):
        assert r["content_sha256"] == it.content_sha256() == v.content_sha256
        assert r["policy_sha256"] == POLICY.sha256
        assert len(r["decisions"]) == len(v.decisions)
    assert (tmp_path / "decisions.jsonl").stat().st_mode & 0o077 == 0  # owner only


def test_blocked_verdict_names_the_worst_category_first(tmp_path):
    filt = _filter(tmp_path, WordChecker({"darn": "rude", "shit": "offensive-term"}))
    (v,) = filt.screen([text_item("x", "darn shit")])
    words = next(d for d in v.decisions if d.checker == "words")
    assert v.action == "block" and words.category == "offensive-term"  # block outranks flag


def test_safe_embedder_passes_only_read_only_capabilities(tmp_path):
    spy = HashEmbedder()
    safe = SafeEmbedder(spy, _filter(tmp_path))
    assert safe.fingerprint == spy.fingerprint and safe.describe() == spy.describe()
    assert (safe.name, safe.dim, safe.modalities) == (spy.name, spy.dim, spy.modalities)
    with pytest.raises(AttributeError, match="does not pass '_embed_batch'"):
        _ = safe._embed_batch
    info = safe.wrapper_info()["safety"]
    assert info["policy"]["sha256"] == POLICY.sha256 and "terms" in info["checkers"]


def test_batch_failure_isolated_to_the_failing_item(tmp_path):
    class Picky(WordChecker):
        name = "picky"

        def text_findings(self, text):
            if "boom" in text:
                raise ValueError("cannot read this one")
            return []

    filt = _filter(tmp_path, Picky({}))
    a, b = filt.screen([text_item("a", "fine"), text_item("b", "boom")])
    assert a.action == "allow" and b.action == "block"
    assert b.decisions[-1].error and "cannot read this one" in b.decisions[-1].reason


def test_a_failing_batch_is_retried_item_by_item(tmp_path):
    class Batcher(WordChecker):
        name = "batcher"

        def __init__(self) -> None:
            super().__init__({})
            self.batches: list[int] = []

        def text_findings(self, text):
            if "boom" in text:
                raise ValueError("cannot read this one")
            return []

        def _findings_batch(self, items):
            self.batches.append(len(items))
            return [self.text_findings(it.content) for it in items]

    batcher = Batcher()
    filt = _filter(tmp_path, batcher)
    a, b, c = filt.screen([text_item("a", "fine"), text_item("b", "boom"), text_item("c", "ok")])
    assert batcher.batches == [3]  # one batch call, then item by item
    assert (a.action, b.action, c.action) == ("allow", "block", "allow")
    assert b.decisions[-1].error and "cannot read this one" in b.decisions[-1].reason
