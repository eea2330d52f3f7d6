"""`audit fit-debias`: fit a debiasing projection on embeddings of a grouped dataset.

The fit report answers "does it remove the group signal, and at what cost?" for each
target size: the largest group-mean gap after projection, a linear probe's accuracy at
predicting the group (before, after, and the majority rate) and the share of variance
kept. The probe is trained and scored (cross-validated) on items disjoint from the
projection's fit items: exact mean matching on the fit items would otherwise push
cross-validated accuracy below chance and the number would mean nothing.

Streaming (:func:`fit_debias_streaming`, :func:`fit_debias_from_shards`): the fit items
are fed chunk by chunk to ``partial_fit(..., finalize=False)`` and solved once
(:func:`fit_from_chunks`), so memory holds one chunk plus d x d statistics; only the
probe items (at most ``max_probe``) are kept. The report's fit-side numbers come from
those statistics and the projection's affine map, the probe-side ones as in
:func:`fit_debias`; with the same split the results equal the one-shot fit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit._parquet_shards import iter_parquet_shards
from audit.embedders.base import Embedder
from audit.items import Item, text_item

log = logging.getLogger(__name__)

METHODS = ("fairpca", "fairpca-cov", "pca", "leace")

# Definitional gender pairs of Bolukbasi et al., "Man is to Computer Programmer as Woman is
# to Homemaker?", NeurIPS 2016 (their definitional_pairs.json), used with the bleached SEAT
# templates of May et al. 2019 to make gendered sentences that carry no other content.
GENDER_PAIRS = (
    ("she", "he"), ("her", "his"), ("woman", "man"), ("Mary", "John"),
    ("herself", "himself"), ("daughter", "son"), ("mother", "father"), ("gal", "guy"),
    ("girl", "boy"), ("female", "male"),
)  # fmt: skip


def gendered_sentences() -> list[Item]:
    """Built-in fit set ``builtin:gendered-sentences``: SEAT templates x gender pairs."""
    from fairness.probes import seat_sentences

    items: list[Item] = []
    for female, male in GENDER_PAIRS:
        for gender, word in (("female", female), ("male", male)):
            for i, sent in enumerate(seat_sentences([word])):
                items.append(text_item(f"{gender}/{word}/{i}", sent, gender=gender, word=word))
    return items


@dataclass
class SizeReport:
    """Fit-report numbers at one target size."""

    size: int
    max_group_mean_gap_fit: float
    max_group_mean_gap_probe: float
    probe_accuracy_before: float
    probe_accuracy_after: float
    majority_rate: float
    variance_kept: float


@dataclass
class FitReport:
    """What `audit fit-debias` prints and writes next to the projection (``.fit.json``)."""

    method: str
    dataset: str
    attribute: str
    embedder: str
    n_fit: int
    n_probe: int
    groups: dict[str, int]
    n_components: int
    seed: int
    sizes: list[SizeReport] = field(default_factory=list)
    #: Streaming fits: chunk size, chunks, rows read and left out, probe cap.
    streaming: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_debiaser(method: str, n_components: int | None) -> Any:
    """The estimator a method name stands for."""
    from fairness.debias import LEACE, FairPCA, PCADebiaser

    if method == "fairpca":
        return FairPCA(n_components, constraint="mean")
    if method == "fairpca-cov":
        return FairPCA(n_components, constraint="covariance")
    if method == "pca":
        return PCADebiaser(n_components)
    if method == "leace":
        return LEACE()
    raise ValueError(f"unknown method {method!r}; use one of {METHODS}")


def _project(debiaser: Any, X: np.ndarray, size: int) -> np.ndarray:
    """As ProjectedEmbedder does: transform, keep ``size`` coordinates, re-normalise."""
    Z = np.asarray(debiaser.transform(X), dtype=np.float64)[:, :size]
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def _max_mean_gap(Z: np.ndarray, labels: np.ndarray) -> float:
    means = np.stack([Z[labels == g].mean(0) for g in np.unique(labels)])
    diffs = means[:, None, :] - means[None, :, :]
    return float(np.linalg.norm(diffs, axis=-1).max())


def _probe_accuracy(Z: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = int(min(5, np.unique(labels, return_counts=True)[1].min()))
    if folds < 2:
        raise ValueError("each group needs at least 2 probe items for a cross-validated probe")
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    clf = LogisticRegression(max_iter=2000)
    return float(cross_val_score(clf, Z, labels, cv=cv, scoring="accuracy").mean())


def fit_debias(
    embedder: Embedder,
    items: list[Item],
    *,
    attribute: str,
    method: str = "fairpca",
    n_components: int | None = None,
    sizes: list[int] | None = None,
    probe_fraction: float = 0.5,
    seed: int = 0,
    dataset_name: str = "",
) -> tuple[Any, FitReport]:
    """Fit a debiaser on a disjoint split and measure it on the other split.

    Returns
    -------
    (debiaser, report)
        The fitted estimator (save it with ``.save(path)``) and the fit report.
    """
    from sklearn.model_selection import train_test_split

    missing = [it.id for it in items if attribute not in it.attributes]
    if missing:
        raise ValueError(f"{len(missing)} item(s) lack attribute {attribute!r}, e.g. {missing[:5]}")
    if not 0 < probe_fraction < 1:
        raise ValueError(f"probe_fraction must be in (0, 1), got {probe_fraction}")
    labels = np.asarray([str(it.attributes[attribute]) for it in items])
    groups, counts = np.unique(labels, return_counts=True)
    if len(groups) < 2:
        raise ValueError(f"attribute {attribute!r} has one value only: {groups.tolist()}")
    X = embedder.embed(items, purpose="index").astype(np.float64)
    fit_idx, probe_idx = train_test_split(
        np.arange(len(items)), test_size=probe_fraction, stratify=labels, random_state=seed
    )
    debiaser = make_debiaser(method, n_components)
    debiaser.fit(X[fit_idx], sensitive_features=labels[fit_idx])
    out_dim = int(np.asarray(debiaser.transform(X[:1])).shape[1])
    sizes = sorted({s for s in (sizes or [out_dim]) if s <= out_dim} or {out_dim}, reverse=True)
    centred = X[fit_idx] - X[fit_idx].mean(0)
    total_var = float((centred**2).sum())
    report = FitReport(
        method=method,
        dataset=dataset_name,
        attribute=attribute,
        embedder=getattr(embedder, "fingerprint", embedder.name),
        n_fit=len(fit_idx),
        n_probe=len(probe_idx),
        groups={str(g): int(c) for g, c in zip(groups, counts, strict=True)},
        n_components=out_dim,
        seed=seed,
    )
    majority = float(np.unique(labels[probe_idx], return_counts=True)[1].max() / len(probe_idx))
    for size in sizes:
        raw_k = X[:, : min(size, X.shape[1])]
        raw_k = raw_k / np.linalg.norm(raw_k, axis=1, keepdims=True)
        Zfit = np.asarray(debiaser.transform(X[fit_idx]), dtype=np.float64)[:, :size]
        Zc = Zfit - Zfit.mean(0)
        report.sizes.append(
            SizeReport(
                size=size,
                # Gap of the linear projection on its own fit data: ~1e-12 for mean matching.
                max_group_mean_gap_fit=_max_mean_gap(Zfit, labels[fit_idx]),
                # Gap of the deployed (re-normalised) vectors on unseen items.
                max_group_mean_gap_probe=_max_mean_gap(
                    _project(debiaser, X[probe_idx], size), labels[probe_idx]
                ),
                probe_accuracy_before=_probe_accuracy(raw_k[probe_idx], labels[probe_idx], seed),
                probe_accuracy_after=_probe_accuracy(
                    _project(debiaser, X[probe_idx], size), labels[probe_idx], seed
                ),
                majority_rate=majority,
                variance_kept=float((Zc**2).sum() / total_var),
            )
        )
    return debiaser, report


def save_projection(debiaser: Any, report: FitReport, path: str | Path) -> Path:
    """Save the estimator (.npz/.safetensors, no pickle) and its ``.fit.json`` sidecar."""
    path = Path(debiaser.save(path))
    side = path.with_suffix(path.suffix + ".fit.json")
    side.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def format_fit_report(report: FitReport) -> str:
    """The table `audit fit-debias` prints."""
    from audit.summary import format_table

    rows = [
        [
            str(s.size),
            f"{s.max_group_mean_gap_fit:.1e}",
            f"{s.max_group_mean_gap_probe:.3f}",
            f"{s.probe_accuracy_before:.3f}",
            f"{s.probe_accuracy_after:.3f}",
            f"{s.majority_rate:.3f}",
            f"{s.variance_kept:.3f}",
        ]
        for s in report.sizes
    ]
    header = ["size", "gap(fit)", "gap(probe)", "probe acc before", "after", "majority", "var kept"]
    head = (
        f"{report.method} on {report.dataset} by {report.attribute}: "
        f"{report.n_fit} fit / {report.n_probe} probe items, groups {report.groups}"
    )
    return head + "\n" + format_table(rows, header)


# -- streaming ---------------------------------------------------------------------------


def fit_from_chunks(debiaser: Any, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> Any:
    """Fit a debiaser from ``(X, groups)`` chunks: ``partial_fit`` each, solve once.

    Parameters
    ----------
    debiaser : estimator with ``partial_fit(X, *, sensitive_features, finalize)``
        and ``finalize()`` (FairPCA, PCADebiaser, LEACE); fitted from scratch.
    chunks : iterable of (ndarray of shape (n_i, d), array-like of shape (n_i,))
        Vectors and their group labels; empty chunks are skipped.

    Returns
    -------
    estimator
        ``debiaser``, fitted: equal (up to rounding) to ``fit`` on the concatenation.
    """
    if not hasattr(debiaser, "partial_fit") or not hasattr(debiaser, "finalize"):
        raise TypeError(f"{type(debiaser).__name__} has no partial_fit/finalize")
    if hasattr(debiaser, "_stats"):
        debiaser._stats = None  # a refit starts from no statistics
    n = 0
    for i, (X, groups) in enumerate(chunks):
        X = np.asarray(X)
        if X.ndim != 2 or len(groups) != X.shape[0]:
            raise ValueError(
                f"chunk {i}: X must be 2-D with one group label per row, got X {X.shape} "
                f"and {len(groups)} labels"
            )
        if X.shape[0] == 0:
            continue
        debiaser.partial_fit(X, sensitive_features=np.asarray(groups), finalize=False)
        n += X.shape[0]
    if n == 0:
        raise ValueError("no rows to fit: every chunk was empty")
    return debiaser.finalize()


class _Streamed:
    """Fit-side statistics (counts, sums, scatter) and the kept probe rows of one stream."""

    def __init__(self) -> None:
        self.n = 0
        self.total: np.ndarray | None = None
        self.gram: np.ndarray | None = None
        self.group_sums: dict[str, np.ndarray] = {}
        self.group_n: dict[str, int] = {}
        self.probe_X: list[np.ndarray] = []
        self.probe_y: list[np.ndarray] = []
        self.probe_pos: list[np.ndarray] = []
        self.chunks = 0

    def probe_rows(self, X: np.ndarray, y: np.ndarray, pos: np.ndarray) -> None:
        """Keep probe rows with their position in the split's probe order."""
        self.probe_X.append(X)
        self.probe_y.append(y)
        self.probe_pos.append(pos)

    def fit_rows(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Record a fit chunk's statistics and pass it on to the debiaser."""
        if self.total is None:
            self.total = np.zeros(X.shape[1])
            self.gram = np.zeros((X.shape[1], X.shape[1]))
        assert self.gram is not None
        self.n += X.shape[0]
        self.total += X.sum(axis=0)
        self.gram += X.T @ X
        for g in np.unique(y):
            rows = X[y == g]
            key = str(g)
            self.group_sums[key] = self.group_sums.get(key, 0.0) + rows.sum(axis=0)
            self.group_n[key] = self.group_n.get(key, 0) + rows.shape[0]
        self.chunks += 1
        return X, y

    def report_sizes(
        self, debiaser: Any, sizes: list[int] | None, seed: int
    ) -> tuple[int, list[SizeReport]]:
        """Output size and per-size reports, from the statistics and the probe rows."""
        assert self.total is not None and self.gram is not None
        d = self.total.shape[0]
        # Every debiaser here is affine: transform(X) = X @ A + b.
        b = np.asarray(debiaser.transform(np.zeros((1, d))), dtype=np.float64)[0]
        A = np.asarray(debiaser.transform(np.eye(d)), dtype=np.float64) - b
        out_dim = A.shape[1]
        mean = self.total / self.n
        scatter = self.gram - self.n * np.outer(mean, mean)
        means = np.stack([self.group_sums[g] / self.group_n[g] for g in sorted(self.group_sums)])
        # The split's probe order, as fit_debias has it: the probe's CV folds depend on it.
        order = np.argsort(np.concatenate(self.probe_pos), kind="stable")
        Xp = np.concatenate(self.probe_X)[order]
        yp = np.concatenate(self.probe_y)[order]
        majority = float(np.unique(yp, return_counts=True)[1].max() / len(yp))
        chosen = sorted(
            {s for s in (sizes or [out_dim]) if s <= out_dim} or {out_dim}, reverse=True
        )
        reports = []
        for size in chosen:
            A_s = A[:, :size]
            gm = means @ A_s
            gaps = np.linalg.norm(gm[:, None, :] - gm[None, :, :], axis=-1)
            raw_k = Xp[:, : min(size, d)]
            raw_k = raw_k / np.linalg.norm(raw_k, axis=1, keepdims=True)
            after = _project(debiaser, Xp, size)
            reports.append(
                SizeReport(
                    size=size,
                    max_group_mean_gap_fit=float(gaps.max()),
                    max_group_mean_gap_probe=_max_mean_gap(after, yp),
                    probe_accuracy_before=_probe_accuracy(raw_k, yp, seed),
                    probe_accuracy_after=_probe_accuracy(after, yp, seed),
                    majority_rate=majority,
                    variance_kept=float(np.trace(A_s.T @ scatter @ A_s) / np.trace(scatter)),
                )
            )
        return out_dim, reports


def _split(
    labels: np.ndarray, probe_fraction: float, seed: int, max_probe: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Role of each row (0 fit, 1 probe, 2 probe beyond ``max_probe``: unused) and the
    position of each probe row in the probe order (-1 for the others).

    The split is :func:`fit_debias`'s (stratified, same seed), so both fit the same rows
    and probe the same rows in the same order.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < probe_fraction < 1:
        raise ValueError(f"probe_fraction must be in (0, 1), got {probe_fraction}")
    groups = np.unique(labels)
    if len(groups) < 2:
        raise ValueError(f"the attribute has one value only: {groups.tolist()}")
    _, probe_idx = train_test_split(
        np.arange(len(labels)), test_size=probe_fraction, stratify=labels, random_state=seed
    )
    role = np.zeros(len(labels), dtype=np.int8)
    role[probe_idx] = 1
    if max_probe is not None and len(probe_idx) > max_probe:
        _, dropped = train_test_split(
            probe_idx, train_size=max_probe, stratify=labels[probe_idx], random_state=seed
        )
        role[dropped] = 2
    pos = np.full(len(labels), -1, dtype=np.int64)
    pos[probe_idx] = np.arange(len(probe_idx))
    return role, pos


def _finish(
    stream: _Streamed,
    method: str,
    n_components: int | None,
    fit_chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    sizes: list[int] | None,
    seed: int,
    header: dict[str, Any],
) -> tuple[Any, FitReport]:
    debiaser = fit_from_chunks(make_debiaser(method, n_components), fit_chunks)
    if not stream.probe_X:
        raise ValueError("no probe rows: the stream held none of the held-out items")
    out_dim, reports = stream.report_sizes(debiaser, sizes, seed)
    probe_n = sum(x.shape[0] for x in stream.probe_X)
    header["streaming"]["chunks"] = stream.chunks
    report = FitReport(
        method=method, n_fit=stream.n, n_probe=probe_n, n_components=out_dim, seed=seed, **header
    )
    report.sizes = reports
    return debiaser, report


def fit_debias_streaming(
    embedder: Embedder,
    items: list[Item],
    *,
    attribute: str,
    method: str = "fairpca",
    n_components: int | None = None,
    sizes: list[int] | None = None,
    probe_fraction: float = 0.5,
    seed: int = 0,
    dataset_name: str = "",
    chunk_size: int = 1024,
    max_probe: int | None = 50_000,
) -> tuple[Any, FitReport]:
    """:func:`fit_debias`, embedding and fitting ``chunk_size`` items at a time.

    Same split and same estimator as :func:`fit_debias` (equal results up to
    rounding while the probe split has at most ``max_probe`` items; above that a
    stratified subset of ``max_probe`` is probed). Memory: one chunk of vectors, the
    d x d statistics and the kept probe vectors.

    Returns
    -------
    (debiaser, report)
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    missing = [it.id for it in items if attribute not in it.attributes]
    if missing:
        raise ValueError(f"{len(missing)} item(s) lack attribute {attribute!r}, e.g. {missing[:5]}")
    labels = np.asarray([str(it.attributes[attribute]) for it in items])
    role, pos = _split(labels, probe_fraction, seed, max_probe)
    stream = _Streamed()

    def fit_chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i0 in range(0, len(items), chunk_size):
            r = role[i0 : i0 + chunk_size]
            X = embedder.embed(items[i0 : i0 + chunk_size], purpose="index").astype(np.float64)
            y = labels[i0 : i0 + chunk_size]
            stream.probe_rows(X[r == 1], y[r == 1], pos[i0 : i0 + chunk_size][r == 1])
            yield stream.fit_rows(X[r == 0], y[r == 0])

    groups, counts = np.unique(labels, return_counts=True)
    header = {
        "dataset": dataset_name,
        "attribute": attribute,
        "embedder": getattr(embedder, "fingerprint", embedder.name),
        "groups": {str(g): int(c) for g, c in zip(groups, counts, strict=True)},
        "streaming": {"chunk_size": chunk_size, "max_probe": max_probe, "rows": len(items)},
    }
    return _finish(
        stream, method, n_components, fit_chunks(), sizes=sizes, seed=seed, header=header
    )


def group_labels(items: Iterable[Item], attribute: str) -> dict[str, str]:
    """Item id -> group label, for :func:`fit_debias_from_shards` (every item must have it)."""
    items = list(items)
    missing = [it.id for it in items if attribute not in it.attributes]
    if missing:
        raise ValueError(f"{len(missing)} item(s) lack attribute {attribute!r}, e.g. {missing[:5]}")
    return {it.id: str(it.attributes[attribute]) for it in items}


def fit_debias_from_shards(
    shards: str | Path | Iterable[tuple[list[str], np.ndarray]],
    labels: Mapping[str, Hashable],
    *,
    attribute: str,
    method: str = "fairpca",
    n_components: int | None = None,
    sizes: list[int] | None = None,
    probe_fraction: float = 0.5,
    seed: int = 0,
    dataset_name: str = "",
    embedder_name: str = "",
    max_probe: int | None = 50_000,
    batch_rows: int = 8192,
) -> tuple[Any, FitReport]:
    """Fit on vectors already embedded into Parquet shards, joined to labels by item id.

    Parameters
    ----------
    shards : path or iterable of (ids, vectors)
        A shard directory (read with :func:`iter_parquet_shards`) or any iterable of
        ``(ids, float vectors)`` batches, e.g. ``audit.engines.iter_shards(dir, fp)``.
    labels : mapping of item id to group label
        The items to fit on; shard rows whose id is not here are left out (counted in
        ``report.streaming["rows_unlabelled"]``). Every labelled id must be in the
        shards; a repeat of an id already read is skipped and counted
        (``rows_duplicate``): pass shards of one fingerprint and one purpose
        (``iter_shards(dir, fingerprint, purpose="index")``).
    attribute, method, n_components, sizes, probe_fraction, seed, max_probe
        As :func:`fit_debias_streaming`; the split is over the labelled ids in the
        order of ``labels`` (:func:`group_labels` keeps the dataset's order, so the split
        is :func:`fit_debias`'s on the same items).
    dataset_name, embedder_name : str
        Recorded in the report.
    batch_rows : int
        Rows per batch read from a shard directory.

    Returns
    -------
    (debiaser, report)
    """
    ids = list(labels)  # the mapping's order defines the split, as items do in fit_debias
    y_all = np.asarray([str(labels[i]) for i in ids])
    roles, positions = _split(y_all, probe_fraction, seed, max_probe)
    role_of = dict(zip(ids, roles.tolist(), strict=True))
    pos_of = dict(zip(ids, positions.tolist(), strict=True))
    label_of = dict(zip(ids, y_all.tolist(), strict=True))
    batches = (
        iter_parquet_shards(shards, batch_rows=batch_rows)
        if isinstance(shards, str | Path)
        else shards
    )
    stream = _Streamed()
    seen: set[str] = set()
    info = {"rows": 0, "rows_unlabelled": 0, "rows_duplicate": 0, "max_probe": max_probe}

    def fit_chunks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for batch_ids, vectors in batches:
            X = np.asarray(vectors, dtype=np.float64)
            if X.ndim != 2 or X.shape[0] != len(batch_ids):
                raise ValueError(f"a shard batch has {len(batch_ids)} ids but {X.shape} vectors")
            info["rows"] += X.shape[0]
            r = np.asarray([role_of.get(i, -1) for i in batch_ids], dtype=np.int8)
            info["rows_unlabelled"] += int((r < 0).sum())
            for j, i in enumerate(batch_ids):
                if r[j] < 0:
                    continue
                if i in seen:
                    # Content-addressed shards of differently sliced calls can hold an
                    # item twice: it is fitted once; the repeat is counted, not used.
                    r[j] = -2
                    info["rows_duplicate"] += 1
                else:
                    seen.add(i)
            y = np.asarray([label_of.get(i, "") for i in batch_ids])
            p = np.asarray([pos_of.get(i, -1) for i in batch_ids], dtype=np.int64)
            stream.probe_rows(X[r == 1], y[r == 1], p[r == 1])
            yield stream.fit_rows(X[r == 0], y[r == 0])
        absent = [i for i in ids if i not in seen]
        if absent:
            raise ValueError(f"{len(absent)} labelled item(s) are in no shard, e.g. {absent[:5]}")
        if info["rows_duplicate"]:
            log.warning("fit-debias: %d repeated shard rows skipped", info["rows_duplicate"])

    groups, counts = np.unique(y_all, return_counts=True)
    header = {
        "dataset": dataset_name,
        "attribute": attribute,
        "embedder": embedder_name,
        "groups": {str(g): int(c) for g, c in zip(groups, counts, strict=True)},
        "streaming": info,
    }
    return _finish(
        stream, method, n_components, fit_chunks(), sizes=sizes, seed=seed, header=header
    )
