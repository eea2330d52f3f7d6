"""Skew@k, MaxSkew/MinSkew and NDKL (Geyik et al. 2019) on hand-built rankings."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from fairness.probes import (
    LargeKWarning,
    max_skew_at_k,
    min_skew_at_k,
    ndkl,
    proportional_target,
    skew_at_k,
    uniform_target,
)

RANKED = ["a", "a", "b", "a", "c", "b", "c", "c", "b", "a", "c", "b"]  # 4 a, 4 b, 4 c
UNIFORM = {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}


def _ndkl_ref(ranked: list[str], target: dict[str, float]) -> float:
    """Plain loop: sum_i KL(D_i || p*) / log2(i + 1), normalised by sum 1 / log2(i + 1)."""
    total = z = 0.0
    for i in range(1, len(ranked) + 1):
        prefix = ranked[:i]
        kl = 0.0
        for g, p in target.items():
            q = prefix.count(g) / i
            if q > 0:
                kl += q * math.log(q / p)
        total += kl / math.log2(i + 1)
        z += 1 / math.log2(i + 1)
    return total / z


def test_targets_from_gallery() -> None:
    gallery = ["x", "y", "x", "z", "x", "y"]
    assert uniform_target(gallery) == pytest.approx({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3})
    assert proportional_target(gallery) == pytest.approx({"x": 0.5, "y": 1 / 3, "z": 1 / 6})
    assert list(proportional_target(gallery)) == ["x", "y", "z"]  # first occurrence


def test_skew_by_hand_with_absent_group() -> None:
    # Top 4: a, a, b, a -> shares a = 3/4, b = 1/4, c = 0 (absent).
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # k = 4 is well under the 12 items: no warning
        skew = skew_at_k(RANKED, UNIFORM, 4)
    assert skew["a"] == pytest.approx(math.log(0.75 * 3))
    assert skew["b"] == pytest.approx(math.log(0.25 * 3))
    # Absent c: share floored at 1/k = 1/4 (Berg et al.'s convention), so finite.
    assert skew["c"] == pytest.approx(math.log(0.25 * 3))
    assert max_skew_at_k(RANKED, UNIFORM, 4) == pytest.approx(math.log(2.25))
    assert min_skew_at_k(RANKED, UNIFORM, 4) == pytest.approx(math.log(0.75))
    # eps: an explicit floor, or 0 for the exact -inf.
    assert skew_at_k(RANKED, UNIFORM, 4, eps=0.01)["c"] == pytest.approx(math.log(0.03))
    assert skew_at_k(RANKED, UNIFORM, 4, eps=0.0)["c"] == -math.inf
    assert min_skew_at_k(RANKED, UNIFORM, 4, eps=0.0) == -math.inf
    # The floor only touches absent groups.
    assert skew_at_k(RANKED, UNIFORM, 4, eps=0.0)["b"] == pytest.approx(skew["b"])


def test_skew_with_non_uniform_target() -> None:
    target = {"a": 0.5, "b": 0.25, "c": 0.25}
    skew = skew_at_k(RANKED, target, 5)  # a a b a c: a 3/5, b 1/5, c 1/5
    assert skew == pytest.approx(
        {"a": math.log(0.6 / 0.5), "b": math.log(0.2 / 0.25), "c": math.log(0.2 / 0.25)}
    )


def test_skew_tends_to_zero_at_gallery_size_and_warns() -> None:
    target = proportional_target(RANKED)
    with pytest.warns(LargeKWarning, match="k=12"):
        skew = skew_at_k(RANKED, target, 12)
    assert all(v == pytest.approx(0.0) for v in skew.values())
    with pytest.warns(LargeKWarning):
        assert max_skew_at_k(RANKED, target, 7) >= 0.0


def test_max_skew_is_never_negative() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        ranked = list(rng.choice(["a", "b", "c"], size=40))
        target = {"a": 0.2, "b": 0.3, "c": 0.5}
        for k in (1, 3, 10, 20):
            assert max_skew_at_k(ranked, target, k) >= -1e-12


@pytest.mark.parametrize("k", [0, 13, -1])
def test_k_out_of_range(k: int) -> None:
    with pytest.raises(ValueError, match="1 <= k <= len"):
        skew_at_k(RANKED, UNIFORM, k)


@pytest.mark.parametrize("k", [2.5, True, "3"])
def test_k_not_an_integer(k: object) -> None:
    with pytest.raises(TypeError, match="k must be an integer"):
        skew_at_k(RANKED, UNIFORM, k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ranked", "target", "match"),
    [
        ([], UNIFORM, "ranked_groups is empty"),
        (["a", "d"], UNIFORM, "'d'"),
        (RANKED, {"a": 0.5, "b": 0.5, "c": 0.5}, "sum to 1"),
        (RANKED, {"a": 0.5, "b": 0.5, "c": 0.0}, "group 'c' must be > 0"),
        (RANKED, {}, "non-empty mapping"),
    ],
)
def test_bad_inputs(ranked: list[str], target: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        skew_at_k(ranked, target, 1)
    with pytest.raises(ValueError, match=match):
        ndkl(ranked, target)


def test_bad_eps_and_string_ranking() -> None:
    with pytest.raises(ValueError, match="eps"):
        skew_at_k(RANKED, UNIFORM, 2, eps=1.5)
    with pytest.raises(TypeError, match="not a string"):
        skew_at_k("abc", UNIFORM, 2)


def test_ndkl_by_hand() -> None:
    # a, b, a, b against uniform: KL at prefixes 1..4 = ln 2, 0, KL3, 0 with
    # KL3 = 2/3 ln(4/3) + 1/3 ln(2/3).
    kl3 = 2 / 3 * math.log(4 / 3) + 1 / 3 * math.log(2 / 3)
    z = 1 + 1 / math.log2(3) + 1 / 2 + 1 / math.log2(5)
    expected = (math.log(2) / 1 + kl3 / 2) / z
    assert ndkl(["a", "b", "a", "b"], {"a": 0.5, "b": 0.5}) == pytest.approx(expected)


def test_ndkl_zero_when_every_prefix_matches() -> None:
    assert ndkl(["a"] * 5, {"a": 1.0}) == 0.0
    # With two groups no prefix of odd length can match 1/2-1/2; alternating is the
    # best possible order: it beats or ties every other order of the same items.
    items = ["a", "a", "a", "b", "b", "b"]
    best = ndkl(["a", "b", "a", "b", "a", "b"], {"a": 0.5, "b": 0.5})
    others = {ndkl(list(p), {"a": 0.5, "b": 0.5}) for p in set(itertools.permutations(items))}
    assert best == pytest.approx(min(others))
    assert best > 0.0
    # A ranking that follows a 2:1 target at every third prefix scores below its reverse.
    t = {"a": 2 / 3, "b": 1 / 3}
    assert ndkl(["a", "b", "a"] * 3, t) < ndkl(["b"] * 3 + ["a"] * 6, t)


def test_ndkl_matches_loop_reference_with_absent_groups() -> None:
    rng = np.random.default_rng(1)
    target = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    for _ in range(20):
        ranked = list(rng.choice(["a", "b", "c"], size=15, p=[0.6, 0.3, 0.1]))  # d absent
        assert ndkl(ranked, target) == pytest.approx(_ndkl_ref(ranked, target), rel=1e-12)
        assert math.isfinite(ndkl(ranked, target))


def test_ndkl_k_is_a_prefix_cut() -> None:
    assert ndkl(RANKED, UNIFORM, k=5) == pytest.approx(ndkl(RANKED[:5], UNIFORM))
    assert ndkl(RANKED, UNIFORM) == pytest.approx(ndkl(RANKED, UNIFORM, k=len(RANKED)))
    with pytest.raises(ValueError, match="1 <= k"):
        ndkl(RANKED, UNIFORM, k=0)
