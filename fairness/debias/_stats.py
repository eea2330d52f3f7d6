"""Sufficient statistics for the linear debiasers: counts, sums and scatter matrices.

Everything the debiasers fit needs only the number of rows, the per-group counts and sums,
the total d x d scatter matrix and (for the covariance constraint) one scatter matrix per
group. These accumulate over chunks (``partial_fit``) and merge across workers, so memory
stays O(d^2) per group whatever the number of rows.

Numerics. Sums and scatters are kept around a fixed ``shift`` (the first block's mean,
rounded to the input dtype), so ``centered = scatter - sum sum^T / n`` does not cancel
when the data sits far from the origin. Per block:

* sums are float64 sums of the raw rows (exact for float32 input), minus ``n * shift``;
* the product ``Xb^T Xb`` runs in BLAS ``syrk`` in the input's dtype (float32 for float32
  input, as scikit-learn's ``covariance_eigh`` PCA) and is added to a float64 total. When
  the first block shows ``|mean|^2 <= mean |x - mean|^2`` (``raw_gram``: centring would at
  most halve the rounding error, the case for embeddings), the product is taken on the raw
  block and re-centred in float64, which saves a copy of every block; otherwise on
  ``Xb - shift``. Pass float64 data for a float64 fit.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np

from ._groups import EncodedGroups, sort_labels

__all__ = ["AttributeStatistics", "SufficientStatistics"]

BLOCK_ROWS = 8192  # rows per BLAS call: large enough for BLAS efficiency, small in memory


def _gram(xc: np.ndarray) -> np.ndarray:
    """Return ``xc^T xc`` as float64, computed by BLAS in xc's dtype.

    numpy hands ``a.T @ a`` to ``syrk`` (half the flops of a general product); through
    numpy it is also faster than scipy's ``ssyrk`` wrapper here.
    """
    return np.asarray(xc.T @ xc, dtype=np.float64)


def _recentre(gram: np.ndarray, total: np.ndarray, n: int, delta: np.ndarray) -> np.ndarray:
    """``sum (y + delta)(y + delta)^T`` from ``gram = sum y y^T`` and ``total = sum y``."""
    if not np.any(delta):
        return gram
    cross = np.outer(total, delta)
    return gram + cross + cross.T + n * np.outer(delta, delta)


@dataclass
class AttributeStatistics:
    """Per-group counts, shifted sums and (optionally) shifted scatters of one attribute."""

    name: str
    labels: list[Hashable] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    sums: list[np.ndarray] = field(default_factory=list)
    scatters: list[np.ndarray] | None = None
    index: dict[Hashable, int] = field(default_factory=dict)

    def slot(self, label: Hashable, n_features: int) -> int:
        """Return the index of ``label``, adding an empty group the first time it is seen."""
        if label not in self.index:
            self.index[label] = len(self.labels)
            self.labels.append(label)
            self.counts.append(0)
            self.sums.append(np.zeros(n_features))
            if self.scatters is not None:
                self.scatters.append(np.zeros((n_features, n_features)))
        return self.index[label]

    def sort(self) -> None:
        """Reorder the groups by :func:`sort_labels` so results do not depend on chunk order."""
        order = [self.index[label] for label in sort_labels(self.labels)]
        self.labels = [self.labels[i] for i in order]
        self.counts = [self.counts[i] for i in order]
        self.sums = [self.sums[i] for i in order]
        if self.scatters is not None:
            self.scatters = [self.scatters[i] for i in order]
        self.index = {label: i for i, label in enumerate(self.labels)}


class SufficientStatistics:
    """Running statistics of a data stream with group labels.

    Parameters
    ----------
    n_features : int
        Number of columns of every chunk.
    shift : ndarray of shape (n_features,)
        Reference point the sums and scatters are taken around.
    group_scatter : bool
        Whether to keep one d x d scatter matrix per group (covariance constraint).
    """

    def __init__(
        self, n_features: int, shift: np.ndarray, *, group_scatter: bool, raw_gram: bool = False
    ) -> None:
        self.n_features = n_features
        self.shift = np.asarray(shift, dtype=np.float64).copy()
        self.group_scatter = group_scatter
        self.raw_gram = raw_gram
        self.n = 0
        self.sum = np.zeros(n_features)
        self.scatter = np.zeros((n_features, n_features))
        self.attributes: list[AttributeStatistics] | None = None  # None: no groups seen yet

    @classmethod
    def for_data(cls, X: np.ndarray, *, group_scatter: bool) -> SufficientStatistics:
        """Empty statistics with the shift and product mode chosen from ``X``'s first block."""
        head = np.asarray(X[:BLOCK_ROWS], dtype=np.float64)
        shift = head.mean(axis=0).astype(X.dtype).astype(np.float64)  # exact in X's dtype
        spread = float(np.mean(np.sum((head - shift) ** 2, axis=1)))
        return cls(
            X.shape[1], shift, group_scatter=group_scatter, raw_gram=bool(shift @ shift <= spread)
        )

    # ------------------------------------------------------------------ accumulation
    def _attach_groups(self, groups: EncodedGroups | None) -> list[np.ndarray] | None:
        """Map this chunk's local codes to global group slots; check consistency."""
        if groups is None:
            if self.attributes:
                raise ValueError(
                    "sensitive_features is missing for this chunk, but earlier chunks had "
                    f"{len(self.attributes)} attribute(s)"
                )
            self.attributes = self.attributes if self.attributes is not None else []
            return None
        if self.attributes is None or (self.n == 0 and not self.attributes):
            self.attributes = [
                AttributeStatistics(name=name, scatters=[] if self.group_scatter else None)
                for name in groups.names
            ]
        if len(groups.names) != len(self.attributes):
            raise ValueError(
                f"sensitive_features has {len(groups.names)} attribute(s) in this chunk, but "
                f"earlier chunks had {len(self.attributes)}"
            )
        global_codes = []
        for att, codes, labels in zip(self.attributes, groups.codes, groups.labels, strict=True):
            remap = np.array([att.slot(lab, self.n_features) for lab in labels], dtype=np.int64)
            global_codes.append(remap[codes])
        return global_codes

    def update(
        self, X: np.ndarray, groups: EncodedGroups | None, *, block_rows: int = BLOCK_ROWS
    ) -> None:
        """Add the rows of ``X`` (float32 or float64, C-contiguous) and their groups."""
        codes = self._attach_groups(groups)
        attributes = self.attributes or []
        shift_x = self.shift.astype(X.dtype)
        delta = shift_x.astype(np.float64) - self.shift  # zero unless dtypes changed
        # Block products summed here and re-centred once (re-centring is linear).
        gram_sum = np.zeros((self.n_features, self.n_features))
        total = np.zeros(self.n_features)
        for start in range(0, X.shape[0], block_rows):
            stop = min(start + block_rows, X.shape[0])
            xb = X[start:stop]
            nb = stop - start
            raw_sum = xb.sum(axis=0, dtype=np.float64)
            self.n += nb
            self.sum += raw_sum - nb * self.shift
            for a, att in enumerate(attributes):
                assert codes is not None
                grams = self._update_attribute(att, xb, codes[a][start:stop], raw_sum, shift_x)
                if a == 0 and grams is not None:
                    # Each row is in exactly one group of attribute 0: its group scatters
                    # add up to the total, so the total needs no product of its own.
                    self.scatter += grams
            if attributes and attributes[0].scatters is not None:
                continue
            if self.raw_gram:
                gram_sum += _gram(xb)
                total += raw_sum
            else:
                gram_sum += _gram(xb - shift_x)
                total += raw_sum - nb * shift_x
        if not (attributes and attributes[0].scatters is not None):
            origin = -self.shift if self.raw_gram else delta
            self.scatter += _recentre(gram_sum, total, X.shape[0], origin)

    def _update_attribute(
        self,
        att: AttributeStatistics,
        xb: np.ndarray,
        codes: np.ndarray,
        raw_sum: np.ndarray,
        shift_x: np.ndarray,
    ) -> np.ndarray | None:
        """Add one block to an attribute's groups; return their summed scatters, if kept."""
        counts = np.bincount(codes, minlength=len(att.labels))
        present = np.flatnonzero(counts)
        largest = present[np.argmax(counts[present])]
        keep_scatter = att.scatters is not None
        grams = np.zeros((self.n_features,) * 2) if keep_scatter else None
        delta = shift_x.astype(np.float64) - self.shift
        rest = raw_sum.copy()
        for g in present:
            ng = int(counts[g])
            if g == largest and not keep_scatter:
                continue  # its sum is the block's minus the others': no copy of its rows
            rows = xb[codes == g]  # boolean-mask copy
            s_g = rows.sum(axis=0, dtype=np.float64)
            rest -= s_g
            att.counts[g] += ng
            att.sums[g] += s_g - ng * self.shift
            if keep_scatter and grams is not None and att.scatters is not None:
                rows -= shift_x
                gram = _recentre(_gram(rows), s_g - ng * shift_x, ng, delta)
                att.scatters[g] += gram
                grams += gram
        if not keep_scatter:
            n_big = int(counts[largest])
            att.counts[largest] += n_big
            att.sums[largest] += rest - n_big * self.shift
        return grams

    # ------------------------------------------------------------------ merging
    def _moved(self, new_shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Total sum and scatter re-expressed around ``new_shift``."""
        delta = self.shift - new_shift
        s = self.sum + self.n * delta
        scatter = self.scatter + np.outer(self.sum, delta) + np.outer(delta, self.sum)
        scatter += self.n * np.outer(delta, delta)
        return s, scatter

    def merge(self, other: SufficientStatistics) -> None:
        """Add ``other``'s statistics (possibly taken around another shift) into ``self``."""
        if other.n_features != self.n_features:
            raise ValueError(
                f"cannot merge statistics of {other.n_features} features into statistics of "
                f"{self.n_features} features"
            )
        if other.group_scatter != self.group_scatter:
            raise ValueError("cannot merge statistics with and without per-group scatters")
        delta = other.shift - self.shift
        s, scatter = other._moved(self.shift)
        self.sum += s
        self.scatter += scatter
        self.n += other.n
        if other.attributes is None:
            return
        if self.attributes is None or (self.n == other.n and not self.attributes):
            self.attributes = [
                AttributeStatistics(name=o.name, scatters=[] if self.group_scatter else None)
                for o in other.attributes
            ]
        if len(other.attributes) != len(self.attributes):
            raise ValueError(
                f"cannot merge statistics with {len(other.attributes)} attribute(s) into "
                f"statistics with {len(self.attributes)}"
            )
        for mine, theirs in zip(self.attributes, other.attributes, strict=True):
            for k, label in enumerate(theirs.labels):
                g = mine.slot(label, self.n_features)
                ng, sg = theirs.counts[k], theirs.sums[k]
                mine.counts[g] += ng
                mine.sums[g] += sg + ng * delta
                if mine.scatters is not None and theirs.scatters is not None:
                    sc = theirs.scatters[k] + np.outer(sg, delta) + np.outer(delta, sg)
                    mine.scatters[g] += sc + ng * np.outer(delta, delta)

    # ------------------------------------------------------------------ derived quantities
    def mean(self) -> np.ndarray:
        """Mean of all rows seen."""
        return self.shift + self.sum / self.n

    def centered_scatter(self) -> np.ndarray:
        """``sum_i (x_i - mean)(x_i - mean)^T`` (symmetric, d x d)."""
        c = self.scatter - np.outer(self.sum, self.sum) / self.n
        return (c + c.T) / 2

    def raw_scatter(self) -> np.ndarray:
        """``sum_i x_i x_i^T`` (the uncentred second-moment matrix times n)."""
        s, scatter = self._moved(np.zeros(self.n_features))
        del s
        return (scatter + scatter.T) / 2

    def sort_groups(self) -> None:
        """Put every attribute's groups in the deterministic label order."""
        for att in self.attributes or []:
            att.sort()

    def group_means(self, att: AttributeStatistics) -> np.ndarray:
        """(m, d) means of the groups of one attribute (rows of empty groups are NaN)."""
        counts = np.asarray(att.counts, dtype=np.float64)
        sums = np.stack(att.sums) if att.sums else np.zeros((0, self.n_features))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.shift + sums / counts[:, None]

    def group_covariances(self, att: AttributeStatistics) -> list[np.ndarray]:
        """Population covariance (ddof=0, around the group's own mean) of each group."""
        if att.scatters is None:
            raise ValueError("per-group scatter matrices were not accumulated")
        out = []
        for n_g, s_g, sc_g in zip(att.counts, att.sums, att.scatters, strict=True):
            c = (sc_g - np.outer(s_g, s_g) / n_g) / n_g
            out.append((c + c.T) / 2)
        return out
