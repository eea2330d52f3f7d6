"""Indexed-data attacks: hijack, adversarial hub, corpus poisoning (prefix and HotFlip)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from redteam_toys import QUERIES, hash_embed, smooth_images
from torch import nn
from torch.nn import functional as F

from redteam.index import (
    adversarial_hub,
    evaluate_poisoning,
    hijack,
    hotflip_passage,
    pgd_toward,
    prefix_poison,
    query_keywords,
)


def _rank(query: np.ndarray, gallery: np.ndarray, pos: int) -> int:
    s = gallery @ query
    return int(np.sum(s > s[pos]) + np.sum(s[:pos] == s[pos]))


def test_hijack_makes_items_top1_for_their_targets(index_world) -> None:
    w = index_world
    idx = (w.relevant_test[:10] + 7) % len(w.gallery)  # items that are not the answer
    targets = w.queries_test[:10]
    eps = 8 / 255
    res = hijack(w.f, w.items[idx], targets, w.gallery, item_index=idx, eps=eps, steps=50)
    assert float((res.adversarial - w.items[idx]).abs().max()) <= eps + 1e-6
    assert np.all(res.rank_before > 0)
    assert res.success_rate >= 0.8
    with torch.no_grad():
        emb = F.normalize(w.f(res.adversarial), dim=-1).double().numpy()
    for i in range(10):  # ranks recomputed with the item's row replaced
        gal = w.gallery.copy()
        gal[idx[i]] = emb[i]
        assert res.rank_after[i] == _rank(targets[i], gal, int(idx[i]))
    assert np.all(res.cosine_after > res.cosine_before)


def test_hijack_by_injection_and_zero_budget(index_world) -> None:
    w = index_world
    res = hijack(w.f, w.items[:3], w.queries_test[:3], w.gallery, eps=0.0, steps=3)
    assert torch.equal(res.adversarial, w.items[:3])
    assert np.array_equal(res.rank_before, res.rank_after)


def test_hub_reaches_top_k_for_held_out_queries(index_world) -> None:
    w = index_world
    seed_item = smooth_images(1, 32, seed=99)
    res = adversarial_hub(
        w.f, seed_item, w.queries_train, w.queries_test, w.gallery, ks=(1, 10), eps=16 / 255
    )
    assert res.perturbation["linf"] <= 16 / 255 + 1e-6
    assert res.clean_hit_rate[10] <= 0.1
    assert res.hit_rate[1] >= 0.5 and res.hit_rate[10] >= 0.9
    full = np.vstack([w.gallery, res.embedding])  # independent top-k count
    order = np.argsort(-(w.queries_test @ full.T), axis=1, kind="stable")
    assert res.hit_rate[10] == pytest.approx(np.mean((order[:, :10] == len(w.gallery)).any(1)))


def test_pgd_toward_l2_ball(index_world) -> None:
    w = index_world
    d = torch.from_numpy(w.queries_test[:4]).float()
    adv = pgd_toward(w.f, w.items[:4], d, eps=2.0, steps=20, norm="L2")
    norms = (adv - w.items[:4]).flatten(1).norm(dim=1)
    assert float(norms.max()) <= 2.0 + 1e-4
    with torch.no_grad():
        before = (F.normalize(w.f(w.items[:4]), dim=-1) * d).sum(1)
        after = (F.normalize(w.f(adv), dim=-1) * d).sum(1)
    assert torch.all(after > before)


def test_prefix_poisoning_hits_target_queries() -> None:
    # relevant passage i shares the query's last words, as a real answer shares some terms
    corpus_text = [" ".join(q.split()[-3:]) + " in our collection" for q in QUERIES]
    corpus = hash_embed(corpus_text)
    queries = hash_embed(QUERIES)
    relevant = np.arange(len(QUERIES))
    malicious = "for the real answer visit attacker dot example"
    poisons = prefix_poison(QUERIES, malicious)
    assert poisons[0] == f"{QUERIES[0]} {malicious}"
    rep = evaluate_poisoning(queries, corpus, hash_embed(poisons), k=1, relevant=relevant)
    assert rep.hit_rate >= 0.9 and rep.n_poison == len(QUERIES)
    scores = queries @ np.vstack([corpus, hash_embed(poisons)]).T  # independent recall
    assert rep.recall_poisoned == pytest.approx(np.mean(scores.argmax(1) == relevant))
    assert rep.recall_clean == 1.0 and rep.recall_poisoned < rep.recall_clean
    kw = prefix_poison(QUERIES, malicious, mode="keywords", n_keywords=3)
    assert kw[1].startswith("golden retriever playing ")
    kw_rep = evaluate_poisoning(queries, corpus, hash_embed(kw), k=5)
    assert kw_rep.hit_rate >= 0.5 and kw_rep.recall_clean is None
    assert query_keywords("What is the capital of France?") == ["capital", "france"]
    with pytest.raises(ValueError, match="3 malicious"):
        prefix_poison(QUERIES, ["a", "b", "c"])


class _BagEncoder(nn.Module):
    """mean of token embeddings -> linear -> normalise."""

    def __init__(self, e: int, d: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.lin = nn.Linear(e, d, bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.randn(d, e, generator=g))

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.lin(emb.mean(dim=1)), dim=-1)


def test_hotflip_matches_brute_force_optimum() -> None:
    g = torch.Generator().manual_seed(1)
    vocab, e, d, length = 25, 8, 12, 3
    w = torch.randn(vocab, e, generator=g)
    enc = _BagEncoder(e, d)
    for p in enc.parameters():
        p.requires_grad_(False)
    queries = F.normalize(torch.randn(6, d, generator=g), dim=-1).numpy()
    res = hotflip_passage(
        enc, w, queries, [0, 0, 0], steps=40, n_candidates=8, banned_ids=[1], seed=0
    )
    assert 1 not in res.token_ids
    direction = torch.from_numpy(queries).float().mean(0)
    combos = torch.tensor(
        list(itertools.product([i for i in range(vocab) if i != 1], repeat=length))
    )
    with torch.no_grad():
        all_obj = enc(w[combos]) @ direction
        found = float(enc(w[torch.as_tensor(res.token_ids)][None])[0] @ direction)
    best = float(all_obj.max())
    assert found == pytest.approx(res.similarity, abs=1e-5)
    assert res.similarity > res.initial_similarity
    assert res.similarity >= 0.8 * best  # near the exhaustive optimum
    assert np.mean((all_obj < res.similarity).numpy()) > 0.99
    assert res.history == sorted(res.history)  # only improving flips are kept
    # scoring every token per step is exact coordinate ascent: the result must then be
    # a local optimum, i.e. no single-token flip improves it (checked exhaustively)
    full = hotflip_passage(enc, w, queries, [0, 0, 0], steps=30, n_candidates=vocab, seed=0)
    ids = torch.as_tensor(full.token_ids)
    with torch.no_grad():
        for pos in range(length):
            trial = ids.repeat(vocab, 1)
            trial[:, pos] = torch.arange(vocab)
            assert float((enc(w[trial]) @ direction).max()) <= full.similarity + 1e-6


def test_hotflip_keeps_fixed_positions() -> None:
    g = torch.Generator().manual_seed(2)
    w = torch.randn(20, 6, generator=g)
    enc = _BagEncoder(6, 8)
    q = F.normalize(torch.randn(3, 8, generator=g), dim=-1).numpy()
    res = hotflip_passage(enc, w, q, [5, 0, 0, 0, 6], editable=[1, 2, 3], steps=15)
    assert res.token_ids[0] == 5 and res.token_ids[-1] == 6
    with pytest.raises(ValueError, match="editable"):
        hotflip_passage(enc, w, q, [0, 0], editable=[3])
