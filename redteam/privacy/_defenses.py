"""Defenses applied to embeddings before they leave the building, and their cost.

Each defense is a frozen dataclass: calling it on an ``(n, d)`` array returns the defended
array, and ``describe()`` returns the JSON-ready settings a report stores (never the secret
itself, only whether one was set). :func:`leakage_curve` evaluates a leakage measure and a
utility measure (both callables over a transform) for a list of defenses, the points of a
leakage-versus-retrieval-quality plot from which a reviewer picks an operating point.

- :class:`GaussianNoise` adds isotropic noise of standard deviation ``sigma`` per
  coordinate. For a unit vector in ``d`` dimensions the cosine between clean and noisy
  vector is close to ``1 / sqrt(1 + d sigma^2)`` (the noise norm concentrates at
  ``sigma sqrt(d)``); ``describe()`` reports that figure so a sigma reads as a similarity.
- :class:`RandomRotation` multiplies by a Haar-random orthogonal matrix drawn from a secret
  seed (QR of a Gaussian matrix with the signs of R's diagonal folded into Q, Mezzadri,
  "How to generate random matrices from the classical compact groups", Notices AMS 2007).
  All inner products and cosines among rotated vectors are unchanged, so retrieval with
  rotated queries is exactly as good, while anything fitted on unrotated vectors (a probe,
  an inverter, a copy of a document's clean vector) no longer lines up. It is a key, not
  encryption: ``d`` known (clean, rotated) pairs give the key back by orthogonal
  Procrustes.
- :class:`MatryoshkaTruncation` keeps the first ``dims`` coordinates and re-normalises
  (Kusupati et al., "Matryoshka Representation Learning", NeurIPS 2022): fewer numbers to
  leak, at the retrieval cost the model's training left in its prefix.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics import as_matrix, unit_rows

Transform = Callable[[np.ndarray], np.ndarray]


@runtime_checkable
class Defense(Protocol):
    """A transform of embeddings with settings to report."""

    def __call__(self, x: ArrayLike) -> np.ndarray:  # pragma: no cover - protocol
        """The defended ``(n, d')`` array."""
        ...

    def describe(self) -> dict[str, Any]:  # pragma: no cover - protocol
        """JSON-ready settings (``name`` plus parameters; secrets only as a flag)."""
        ...


@dataclass(frozen=True)
class GaussianNoise:
    """Add N(0, sigma^2) noise to every coordinate, from a secret seed.

    The noise is drawn from ``default_rng([seed, digest of the input])``: the same matrix
    always gets the same noise (a re-run is reproducible and re-releasing the same vectors
    gives nothing new to average), while two different matrices -- an index and a batch
    of queries -- get independent noise, never the same noise rows.

    Parameters
    ----------
    sigma : float
        Standard deviation per coordinate (>= 0; 0 is the identity up to ``normalize``).
    seed : int
        Secret seed (not reported by :meth:`describe`).
    normalize : bool
        Return unit rows (for dot-product indexes); cosines are the same either way.
    """

    sigma: float
    seed: int = field(default=0, repr=False)
    normalize: bool = True

    def __post_init__(self) -> None:
        if not (self.sigma >= 0.0 and math.isfinite(self.sigma)):
            raise ValueError(f"GaussianNoise: sigma must be finite and >= 0, got {self.sigma}")

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """``x`` plus noise (unit rows when ``normalize``)."""
        arr = as_matrix(x, "GaussianNoise input")
        rng = np.random.default_rng([self.seed, *_digest_words(arr)])
        out = arr + self.sigma * rng.standard_normal(arr.shape)
        return unit_rows(out, "GaussianNoise output") if self.normalize else out

    def expected_cosine(self, dim: int) -> float:
        """``1 / sqrt(1 + dim sigma^2)``: typical cosine of a unit vector with its noisy copy."""
        return 1.0 / math.sqrt(1.0 + dim * self.sigma**2)

    def describe(self) -> dict[str, Any]:
        """Name, sigma, normalize, and that a secret seed is set."""
        return {
            "name": "gaussian_noise",
            "sigma": float(self.sigma),
            "normalize": self.normalize,
            "secret_seed": True,
        }


@dataclass(frozen=True)
class RandomRotation:
    """Multiply by a random orthogonal matrix drawn from a secret seed.

    Parameters
    ----------
    seed : int
        Secret key: the same seed and dimension give the same rotation.
    """

    seed: int = field(repr=False)

    def matrix(self, dim: int) -> np.ndarray:
        """The ``(dim, dim)`` orthogonal matrix Q; a row ``x`` maps to ``x @ Q``."""
        if dim < 1:
            raise ValueError(f"RandomRotation: dim must be >= 1, got {dim}")
        return _haar_orthogonal(int(self.seed), int(dim)).copy()

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """The rotated rows ``x @ Q`` (norms and all inner products kept)."""
        arr = as_matrix(x, "RandomRotation input")
        return arr @ _haar_orthogonal(int(self.seed), arr.shape[1])

    def describe(self) -> dict[str, Any]:
        """Name and that a secret seed is set."""
        return {"name": "random_rotation", "secret_seed": True}


@dataclass(frozen=True)
class MatryoshkaTruncation:
    """Keep the first ``dims`` coordinates and re-normalise the rows.

    Parameters
    ----------
    dims : int
        Prefix length (>= 1, at most the input dimension).
    """

    dims: int

    def __post_init__(self) -> None:
        if int(self.dims) != self.dims or self.dims < 1:
            raise ValueError(f"MatryoshkaTruncation: dims must be an integer >= 1, got {self.dims}")

    def __call__(self, x: ArrayLike) -> np.ndarray:
        """Unit rows of ``x[:, :dims]``."""
        arr = as_matrix(x, "MatryoshkaTruncation input")
        if self.dims > arr.shape[1]:
            raise ValueError(
                f"MatryoshkaTruncation: dims={self.dims} exceeds the input dimension {arr.shape[1]}"
            )
        return unit_rows(arr[:, : self.dims], "MatryoshkaTruncation output")

    def describe(self) -> dict[str, Any]:
        """Name and the prefix length."""
        return {"name": "matryoshka_truncation", "dims": int(self.dims)}


@dataclass(frozen=True)
class LeakagePoint:
    """One defense setting: what still leaks and what retrieval keeps.

    Attributes
    ----------
    defense : dict
        ``describe()`` of the defense, or ``{"name": "none"}`` for the undefended baseline.
    leakage, utility : float
        The ``"value"`` of each measure (e.g. membership AUC, nDCG@10).
    leakage_detail, utility_detail : dict of str to float
        Everything each measure returned (CI bounds, n, ...); ``{"value": x}`` for a bare
        number.
    """

    defense: dict[str, Any]
    leakage: float
    utility: float
    leakage_detail: dict[str, float]
    utility_detail: dict[str, float]


Measure = Callable[[Transform], float | Mapping[str, float]]


def leakage_curve(
    defenses: Sequence[Defense | None],
    leakage: Measure,
    utility: Measure,
) -> tuple[LeakagePoint, ...]:
    """Evaluate a leakage and a utility measure under each defense, in order.

    Parameters
    ----------
    defenses : sequence of Defense or None
        The settings to compare; ``None`` is the undefended baseline (identity).
    leakage, utility : callable
        ``measure(transform) -> float`` or ``-> Mapping`` with a ``"value"`` key (plus any
        CI bounds or counts to keep). The measure decides where the transform applies
        (the stored vectors, the queries, both), so one callable can run an attack.

    Returns
    -------
    tuple of LeakagePoint
        One point per defense, in the given order.
    """
    if len(defenses) == 0:
        raise ValueError("leakage_curve: give at least one defense (None = undefended)")
    points = []
    for i, defense in enumerate(defenses):
        if defense is None:
            transform: Transform = _identity
            described: dict[str, Any] = {"name": "none"}
        elif isinstance(defense, Defense):
            transform, described = defense, dict(defense.describe())
        else:
            raise TypeError(f"defenses[{i}] is {type(defense).__name__}, not a Defense or None")
        lk = _measured(leakage(transform), "leakage", described)
        ut = _measured(utility(transform), "utility", described)
        points.append(LeakagePoint(described, lk["value"], ut["value"], lk, ut))
    return tuple(points)


def _identity(x: np.ndarray) -> np.ndarray:
    return as_matrix(x, "input")


def _measured(value: object, what: str, defense: Mapping[str, Any]) -> dict[str, float]:
    detail = dict(value) if isinstance(value, Mapping) else {"value": value}
    if "value" not in detail:
        raise ValueError(f"{what} under {defense} returned a mapping without a 'value' key")
    try:
        detail["value"] = float(detail["value"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} under {defense} is not a number: {detail['value']!r}") from err
    return detail


@lru_cache(maxsize=8)
def _haar_orthogonal(seed: int, dim: int) -> np.ndarray:
    # Cached: one QR per (key, dim), reused for the index and every query batch.
    g = np.random.default_rng(seed).standard_normal((dim, dim))
    q, r = np.linalg.qr(g)
    # QR alone is not Haar-distributed (its sign convention biases Q); multiplying column j
    # by sign(R_jj) makes the factorisation unique and Q uniform (Mezzadri 2007).
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    q.setflags(write=False)
    return q


def _digest_words(arr: np.ndarray) -> list[int]:
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(arr.shape).encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    d = h.digest()
    return [int.from_bytes(d[i : i + 4], "little") for i in range(0, 16, 4)]
