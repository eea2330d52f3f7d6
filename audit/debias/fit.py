"""The one fit driver of ``audit fit-debias``: a debiaser fitted chunk by chunk.

Every fit goes through :func:`fit_chunked`: the rows come in chunks with their role in the
split (fit or held-out probe), the fit rows of each chunk go to
``partial_fit(..., finalize=False)`` in the split's order and the debiaser is solved once
(:func:`fit_from_chunks`); memory holds one chunk, d x d statistics and the probe rows
(at most ``max_probe``). Three sources feed it:

* :func:`fit_debias`: an embedder and items; by default the one-shot fit, one chunk
  of every item, whose projection is exactly ``fit`` on the split's fit rows.
* :func:`fit_debias_streaming`: the same, ``chunk_size`` items at a time.
* :func:`fit_debias_from_shards`: vectors the Ray engine already wrote, joined to labels
  by item id.

All three use the same stratified split, so on the same items they fit the same rows and
probe the same rows in the same order: their results are equal up to rounding.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from audit._parquet_shards import iter_parquet_shards
from audit.debias.methods import make_debiaser
from audit.debias.report import FitReport, measure_sizes
from audit.embedders.base import Embedder
from audit.items import Item

log = logging.getLogger(__name__)

#: Role of a row in the split: fitted, probed, or a probe row beyond ``max_probe`` (unused).
FIT, PROBE, DROPPED = 0, 1, 2

#: One chunk of rows: vectors (n, d), group labels (n,), roles (n,) and each row's
#: position in its side's order of the split (n,; -1 where unused).
Chunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


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
        ``debiaser``, fitted: equal (up to rounding) to ``fit`` on the concatenation,
        and exactly equal for a single chunk.
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


class _Stream:
    """Fit-side statistics (counts, sums, scatter) and the kept probe rows of one stream."""

    def __init__(self) -> None:
        self.n = 0
        self.total: np.ndarray | None = None
        self.gram: np.ndarray | None = None
        self.group_sums: dict[str, np.ndarray] = {}
        self.group_n: dict[str, int] = {}
        self.probe: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.chunks = 0

    def add(self, X: np.ndarray, y: np.ndarray, role: np.ndarray, order: np.ndarray):
        """Keep a chunk's probe rows; record its fit rows and return them in split order."""
        probe = role == PROBE
        self.probe.append((X[probe], y[probe], order[probe]))
        fit = np.flatnonzero(role == FIT)
        # In the split's order, so that one chunk feeds exactly the one-shot fit's rows.
        fit = fit[np.argsort(order[fit], kind="stable")]
        X, y = X[fit], y[fit]
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

    def probe_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The kept probe rows and labels, in the split's probe order."""
        order = np.argsort(np.concatenate([p for _, _, p in self.probe]), kind="stable")
        X = np.concatenate([x for x, _, _ in self.probe])[order]
        return X, np.concatenate([y for _, y, _ in self.probe])[order]


def _split(
    labels: np.ndarray, attribute: str, probe_fraction: float, seed: int, max_probe: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Role of each row (FIT, PROBE or DROPPED: a probe row beyond ``max_probe``) and its
    position in its side's order (fit order or probe order; -1 for dropped rows).

    A stratified split with the seed: the same for every source, so each fits the same
    rows in the same order and probes the same rows in the same order.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < probe_fraction < 1:
        raise ValueError(f"probe_fraction must be in (0, 1), got {probe_fraction}")
    groups = np.unique(labels)
    if len(groups) < 2:
        raise ValueError(f"attribute {attribute!r} has one value only: {groups.tolist()}")
    fit_idx, probe_idx = train_test_split(
        np.arange(len(labels)), test_size=probe_fraction, stratify=labels, random_state=seed
    )
    role = np.full(len(labels), FIT, dtype=np.int8)
    role[probe_idx] = PROBE
    order = np.full(len(labels), -1, dtype=np.int64)
    order[fit_idx] = np.arange(len(fit_idx))
    order[probe_idx] = np.arange(len(probe_idx))
    if max_probe is not None and len(probe_idx) > max_probe:
        _, dropped = train_test_split(
            probe_idx, train_size=max_probe, stratify=labels[probe_idx], random_state=seed
        )
        role[dropped] = DROPPED
    return role, order


def fit_chunked(
    chunks: Iterable[Chunk],
    *,
    method: str,
    n_components: int | None,
    sizes: list[int] | None,
    seed: int,
    header: dict[str, Any],
) -> tuple[Any, FitReport]:
    """The fit driver: fit ``method`` on the chunks' fit rows, measure it on their probe rows.

    Parameters
    ----------
    chunks : iterable of Chunk
        ``(X, labels, role, order)`` per chunk, roles and orders from :func:`_split`.
    method, n_components, sizes, seed
        As :func:`fit_debias`.
    header : dict
        The report's ``dataset``, ``attribute``, ``embedder``, ``groups`` and
        ``streaming`` (a dict, given the chunk count here; None for a one-shot fit).

    Returns
    -------
    (debiaser, report)
    """
    stream = _Stream()
    fitted = (stream.add(*chunk) for chunk in chunks)
    debiaser = fit_from_chunks(make_debiaser(method, n_components), fitted)
    if not any(len(y) for _, y, _ in stream.probe):
        raise ValueError("no probe rows: the stream held none of the held-out items")
    assert stream.total is not None and stream.gram is not None
    mean = stream.total / stream.n
    probe_X, probe_y = stream.probe_rows()
    group_means = [stream.group_sums[g] / stream.group_n[g] for g in sorted(stream.group_sums)]
    out_dim, reports = measure_sizes(
        debiaser,
        scatter=stream.gram - stream.n * np.outer(mean, mean),
        group_means=np.stack(group_means),
        probe_X=probe_X,
        probe_y=probe_y,
        sizes=sizes,
        seed=seed,
    )
    if header.get("streaming") is not None:
        header["streaming"]["chunks"] = stream.chunks
    report = FitReport(
        method=method,
        n_fit=stream.n,
        n_probe=len(probe_y),
        n_components=out_dim,
        seed=seed,
        sizes=reports,
        **header,
    )
    return debiaser, report


def _labels(items: list[Item], attribute: str) -> np.ndarray:
    """Each item's group under ``attribute`` (every item must have one)."""
    missing = [it.id for it in items if attribute not in it.attributes]
    if missing:
        raise ValueError(f"{len(missing)} item(s) lack attribute {attribute!r}, e.g. {missing[:5]}")
    return np.asarray([str(it.attributes[attribute]) for it in items])


def _groups(labels: np.ndarray) -> dict[str, int]:
    groups, counts = np.unique(labels, return_counts=True)
    return {str(g): int(c) for g, c in zip(groups, counts, strict=True)}


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
    chunk_size: int | None = None,
    max_probe: int | None = None,
) -> tuple[Any, FitReport]:
    """Fit a debiaser on a disjoint split and measure it on the other split.

    Parameters
    ----------
    embedder : Embedder
        Embeds the items (purpose ``index``).
    items : list of Item
        Each must carry ``attribute``.
    attribute : str
        The group attribute.
    method : str
        One of :data:`audit.debias.methods.PROJECTION_METHODS`.
    n_components : int, optional
        Output size (default: the method's largest).
    sizes : list of int, optional
        Target sizes the report measures (default: the output size).
    probe_fraction : float
        Held-out share (stratified split with ``seed``).
    seed : int
        Seed of the split and of the probe's folds.
    dataset_name : str
        Recorded in the report.
    chunk_size : int, optional
        Embed and fit this many items at a time; None (default): one chunk of every
        item, whose projection is exactly ``fit`` on the split's fit rows.
    max_probe : int, optional
        Most held-out items kept for the probe (a stratified subset); None: all.

    Returns
    -------
    (debiaser, report)
        The fitted estimator (save it with ``.save(path)``) and the fit report
        (``report.streaming`` is None for one chunk of every item).
    """
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    labels = _labels(items, attribute)
    role, order = _split(labels, attribute, probe_fraction, seed, max_probe)
    step = chunk_size or len(items)

    def chunks() -> Iterator[Chunk]:
        for i0 in range(0, len(items), step):
            part = slice(i0, i0 + step)
            X = embedder.embed(items[part], purpose="index").astype(np.float64)
            yield X, labels[part], role[part], order[part]

    header = {
        "dataset": dataset_name,
        "attribute": attribute,
        "embedder": embedder.fingerprint,
        "groups": _groups(labels),
        "streaming": None
        if chunk_size is None
        else {"chunk_size": chunk_size, "max_probe": max_probe, "rows": len(items)},
    }
    return fit_chunked(
        chunks(), method=method, n_components=n_components, sizes=sizes, seed=seed, header=header
    )


def fit_debias_streaming(
    embedder: Embedder,
    items: list[Item],
    *,
    chunk_size: int = 1024,
    max_probe: int | None = 50_000,
    **options: Any,
) -> tuple[Any, FitReport]:
    """:func:`fit_debias`, embedding and fitting ``chunk_size`` items at a time.

    Same split and same estimator as the one-shot fit (equal results up to rounding
    while the probe split has at most ``max_probe`` items; above that a stratified
    subset of ``max_probe`` is probed). Memory: one chunk of vectors, the d x d
    statistics and the kept probe vectors. ``options`` are :func:`fit_debias`'s
    (``attribute`` is required).

    Returns
    -------
    (debiaser, report)
    """
    if chunk_size is None:
        raise ValueError("chunk_size must be an int >= 1, got None")
    return fit_debias(embedder, items, chunk_size=chunk_size, max_probe=max_probe, **options)


def group_labels(items: Iterable[Item], attribute: str) -> dict[str, str]:
    """Item id -> group label, for :func:`fit_debias_from_shards` (every item must have it)."""
    items = list(items)
    return dict(zip((it.id for it in items), _labels(items, attribute).tolist(), strict=True))


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
    roles, orders = _split(y_all, attribute, probe_fraction, seed, max_probe)
    role_of = dict(zip(ids, roles.tolist(), strict=True))
    order_of = dict(zip(ids, orders.tolist(), strict=True))
    label_of = dict(zip(ids, y_all.tolist(), strict=True))
    batches = (
        iter_parquet_shards(shards, batch_rows=batch_rows)
        if isinstance(shards, str | Path)
        else shards
    )
    seen: set[str] = set()
    info = {"rows": 0, "rows_unlabelled": 0, "rows_duplicate": 0, "max_probe": max_probe}

    def chunks() -> Iterator[Chunk]:
        for batch_ids, vectors in batches:
            X = np.asarray(vectors, dtype=np.float64)
            if X.ndim != 2 or X.shape[0] != len(batch_ids):
                raise ValueError(f"a shard batch has {len(batch_ids)} ids but {X.shape} vectors")
            info["rows"] += X.shape[0]
            # Unlabelled rows and repeats get a role the driver ignores (neither fit nor probe).
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
            o = np.asarray([order_of.get(i, -1) for i in batch_ids], dtype=np.int64)
            yield X, y, r, o
        absent = [i for i in ids if i not in seen]
        if absent:
            raise ValueError(f"{len(absent)} labelled item(s) are in no shard, e.g. {absent[:5]}")
        if info["rows_duplicate"]:
            log.warning("fit-debias: %d repeated shard rows skipped", info["rows_duplicate"])

    header = {
        "dataset": dataset_name,
        "attribute": attribute,
        "embedder": embedder_name,
        "groups": _groups(y_all),
        "streaming": info,
    }
    return fit_chunked(
        chunks(), method=method, n_components=n_components, sizes=sizes, seed=seed, header=header
    )
