"""Retrieval heads and torchattacks-backed query attacks on a toy linear embedder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from redteam_toys import DIM, ToyEmbedder
from torch.nn import functional as F

from redteam.tensor import (
    QueryBudgetExceeded,
    RetrievalHead,
    ScoreHead,
    WaveformAdapter,
    build_attack,
    craft,
    module_embed_fn,
    run_query_attack,
    transfer_attack,
)

EPS = 8 / 255


def test_head_logits_equal_scaled_cosine(query_world) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery * 3.0, scale=17.0)  # unnormalised gallery on purpose
    with torch.no_grad():
        logits = head(w.x).double().numpy()
    flat = w.x.flatten(1).double().numpy() - 0.5
    emb = flat @ w.f.lin.weight.double().numpy().T + w.f.lin.bias.double().numpy()
    cos = (emb / np.linalg.norm(emb, axis=1, keepdims=True)) @ (
        w.gallery / np.linalg.norm(w.gallery, axis=1, keepdims=True)
    ).T
    assert logits.shape == (len(w.x), len(w.gallery))
    assert np.allclose(logits, 17.0 * cos, atol=1e-4)
    assert head.n_classes == len(w.gallery)


def test_pgd_respects_linf_and_beats_clean(query_world) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery, scale=20.0)
    labels = np.arange(len(w.x))
    zero = run_query_attack(head, w.x, labels, attack="pgd", eps=0.0, steps=5)
    assert torch.equal(zero.adversarial, w.x)
    assert zero.report.success_rate == 0.0
    assert zero.report.recall_attacked == zero.report.recall_clean == 1.0
    res = run_query_attack(head, w.x, labels, attack="pgd", eps=EPS, steps=10, seed=0)
    delta = (res.adversarial - w.x).abs().flatten(1).max(dim=1).values
    assert float(delta.max()) <= EPS + 1e-6
    assert float(res.adversarial.min()) >= 0 and float(res.adversarial.max()) <= 1
    assert res.report.success_rate > 0.8 > zero.report.success_rate
    assert res.report.recall_attacked < res.report.recall_clean
    assert res.report.perturbation["linf_max"] <= EPS + 1e-6
    again = run_query_attack(head, w.x, labels, attack="pgd", eps=EPS, steps=10, seed=0)
    assert torch.equal(again.adversarial, res.adversarial)  # seeded


@pytest.mark.parametrize("attack", ["fgsm", "mifgsm", "apgd", "pgdl2", "cw"])
def test_other_white_box_attacks(query_world, attack: str) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery, scale=20.0)
    eps = 1.0 if attack == "pgdl2" else 2 * EPS
    res = run_query_attack(head, w.x, np.arange(len(w.x)), attack=attack, eps=eps, steps=10)
    size = res.report.perturbation
    if attack == "pgdl2":
        assert size["l2_max"] <= eps + 1e-5
    elif attack != "cw":
        assert size["linf_max"] <= eps + 1e-6
    assert res.report.success_rate > 0.3


def test_targeted_pgd_reaches_the_target(query_world) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery, scale=20.0)
    n = len(w.x)
    target = (np.arange(n) + 5) % n
    res = run_query_attack(
        head, w.x, target, attack="pgd", targeted=True, relevant=np.arange(n), eps=4 * EPS,
        steps=30,
    )  # fmt: skip
    assert res.report.targeted and res.report.n_eligible == n
    assert res.report.success_rate >= 0.9
    top1 = np.argmax(head.embed_batch(res.adversarial) @ head.gallery.double().numpy().T, 1)
    assert np.mean(top1 == target) == pytest.approx(res.report.success_rate)
    with pytest.raises(ValueError, match="no targeted mode"):
        build_attack("apgd", head, targeted=True)


def test_square_stays_inside_query_budget(query_world) -> None:
    w = query_world
    calls: list[int] = []

    def remote(x: np.ndarray) -> np.ndarray:  # stands in for a remote API
        calls.append(len(x))
        return module_embed_fn(w.f)(x)

    budget = 200
    head = ScoreHead(remote, w.gallery, scale=20.0)
    n = 8
    res = run_query_attack(
        head, w.x[:n], np.arange(n), attack="square", eps=4 * EPS, query_budget=budget
    )
    assert res.report.queries_used == head.queries_used
    assert sum(calls) == head.queries_used + 2 * n  # plus clean + adversarial evaluation
    assert head.queries_used <= budget * n
    assert res.report.perturbation["linf_max"] <= 4 * EPS + 1e-6
    assert res.report.success_rate > 0.5  # random search finds them at this eps
    capped = ScoreHead(remote, w.gallery, max_queries=10)
    with pytest.raises(QueryBudgetExceeded, match="budget of 10"):
        craft(capped, w.x[:n], np.arange(n), attack="square", query_budget=budget)
    with pytest.raises(ValueError, match="needs gradients"):
        craft(head, w.x[:n], np.arange(n), attack="pgd")


def test_transfer_from_a_close_surrogate(query_world) -> None:
    w = query_world
    surrogate_f = ToyEmbedder(w.x[0].numel(), seed=0)
    with torch.no_grad():  # a slightly different model: the target's weights plus noise
        g = torch.Generator().manual_seed(9)
        surrogate_f.lin.weight.add_(0.3 * torch.randn(surrogate_f.lin.weight.shape, generator=g)
                                    / surrogate_f.lin.weight.shape[1] ** 0.5)  # fmt: skip
        surrogate_gallery = surrogate_f(w.x).double().numpy()
    surrogate = RetrievalHead(surrogate_f, surrogate_gallery, scale=20.0)
    target = ScoreHead(module_embed_fn(w.f), w.gallery)
    labels = np.arange(len(w.x))
    res = transfer_attack(surrogate, target, w.x, labels, attack="pgd", eps=2 * EPS, steps=10)
    assert res.report.attack == "transfer/pgd" and res.report.queries_used == 0
    assert target.queries_used == 0  # evaluation does not count as attack queries
    assert res.report.success_rate > 0.5


def test_audio_waveforms_through_the_adapter() -> None:
    t = 64
    f = ToyEmbedder(t, seed=4)
    wav_embed = torch.nn.Sequential(f)  # takes (N, T) waveforms in [-1, 1]
    adapter = WaveformAdapter(wav_embed)
    g = torch.Generator().manual_seed(0)
    waves = torch.rand(6, t, generator=g) * 1.6 - 0.8
    unit = adapter.to_unit(waves)
    assert unit.shape == (6, 1, 1, t)
    assert torch.allclose(adapter.from_unit(unit), waves, atol=1e-6)
    with torch.no_grad():
        gallery = (f(waves + 0.5) + 0.05 * torch.randn(6, DIM, generator=g)).numpy()
    head = RetrievalHead(adapter, gallery, scale=20.0)
    res = run_query_attack(head, unit, np.arange(6), attack="apgd", eps=0.1, steps=20)
    wave_delta = (adapter.from_unit(res.adversarial) - waves).abs().max()
    assert float(wave_delta) <= adapter.eps_in_waveform_units(0.1) + 1e-5
    assert res.report.recall_attacked < res.report.recall_clean
    with pytest.raises(ValueError, match=r"\[-1.0, 1.0\]"):
        adapter.to_unit(waves * 2)


def test_bad_inputs_are_named(query_world) -> None:
    w = query_world
    head = RetrievalHead(w.f, w.gallery)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        craft(head, w.x * 2, np.arange(len(w.x)))
    with pytest.raises(ValueError, match="labels must be gallery indices"):
        craft(head, w.x, np.arange(len(w.x)) + 100)
    with pytest.raises(ValueError, match="3 labels"):
        craft(head, w.x, [0, 1, 2])


def test_attacks_leave_batchnorm_in_eval_mode(query_world) -> None:
    """torchattacks 'recovers' the head's training flag; submodule flags must survive."""
    w = query_world
    bn = torch.nn.BatchNorm1d(DIM).eval()
    with torch.no_grad():
        bn.running_mean.uniform_(-0.1, 0.1)
    embed = torch.nn.Sequential(w.f, bn).eval()
    head = RetrievalHead(embed, w.gallery, scale=20.0)  # fresh module: training=True
    before = bn.running_mean.clone()
    res = run_query_attack(head, w.x[:4], np.arange(4), attack="pgd", eps=EPS, steps=3)
    assert not bn.training and not embed.training and head.training
    assert torch.equal(bn.running_mean, before)
    with torch.no_grad():  # the report used eval-mode embeddings
        expected = F.normalize(embed(res.adversarial), dim=-1) @ head.gallery.T
    assert res.report.per_query["rank_attacked"] == [
        int((expected[i] > expected[i, i]).sum()) for i in range(4)
    ]
