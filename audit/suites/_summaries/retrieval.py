"""Terminal views of retrieval results: the Table-3-shaped degradation table and latency.

Built from :class:`~audit.report.Result` objects only, so a finished report renders the
same table as the run that wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.report import Result

#: Metrics shown in the degradation tables (first found per row wins), with their labels.
#: The seed report's R@k is "a relevant item in the top k": hit@k, which equals recall@k
#: when each query has one relevant item; datasets with several relevant items per query
#: carry ``avg_hit`` for that reason.
TABLE_METRICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("avg_hit", "avg_recall"),
        'Avg = mean of R@1, R@5, R@10 (the seed report\'s "Avg"; R@k = share of queries '
        "with a relevant item in the top k), %",
    ),
    (("ndcg@10",), "NDCG@10, %"),
)
LATENCY_PREFIX = "embedding/"


def _render(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> str:
    """Fixed-width table; the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def degradation_table(results: Sequence[Result], metrics: Sequence[str], label: str) -> str | None:
    """One metric by embedding size: rows (dataset, modality pair, variant), columns sizes.

    Each row shows the first of ``metrics`` it has. Cells are percentages; ``*`` marks an
    untrained truncation (the model was not trained for that size), ``-`` a size not
    measured for that row. None when no result has any of the metrics.
    """
    found: dict[tuple[str, str, str], dict[str, dict[int, Result]]] = {}
    for r in results:
        if r.metric not in metrics or r.group is not None or r.dim is None:
            continue
        key = (r.check, r.modality or "-", r.variant)
        found.setdefault(key, {}).setdefault(r.metric, {})[r.dim] = r
    cells: dict[tuple[str, str, str], dict[int, str]] = {}
    few: dict[tuple[str, str, str], str] = {}
    sizes: set[int] = set()
    for key, by_metric in found.items():
        chosen = by_metric[next(m for m in metrics if m in by_metric)]
        for dim, r in chosen.items():
            mark = "*" if r.details.get("truncation") == "untrained" else ""
            value = "n/a" if r.value is None else f"{100 * r.value:.1f}"
            cells.setdefault(key, {})[dim] = value + mark
            sizes.add(dim)
            if r.too_few is not None:
                few.setdefault(key, r.too_few)
    if not cells:
        return None
    columns = sorted(sizes, reverse=True)
    header = ["dataset", "modality", "variant", *(str(d) for d in columns)]
    rows = [[*key, *(cells[key].get(d, "-") for d in columns)] for key in sorted(cells)]
    notes = [
        f"  {' '.join(key)}: {reason}: an anecdote, not an estimate (its CI spans most "
        "of the range; more queries: [suite.retrieval] max_queries / max_corpus)"
        for key, reason in sorted(few.items())
    ]
    return "\n".join([label, _render(header, rows, left=3), *notes])


def group_table(results: Sequence[Result]) -> str | None:
    """Quality per group at each row's largest size: one row per group, metrics as columns.

    Rows are (dataset, modality, variant, size, attribute, group); the gap (best - worst
    group) of each metric closes each attribute. Other sizes are in the run table
    (``audit show RUN_DIR --all``). None when no result has a group.
    """
    top: dict[tuple[str, str, str], int] = {}
    for r in results:
        if r.group is not None and r.dim is not None:
            key = (r.check, r.modality or "-", r.variant)
            top[key] = max(top.get(key, 0), r.dim)
    cells: dict[tuple[str, ...], dict[str, str]] = {}
    metrics: dict[str, None] = {}
    for r in results:
        key = (r.check, r.modality or "-", r.variant)
        if r.group is None or r.dim != top.get(key):
            continue
        attribute, _, group = r.group.partition("=")
        metric = r.metric
        if not group:  # an attribute's gap or ratio: a row of its own
            if not metric.endswith("_difference"):
                continue
            group, metric = "gap (best - worst)", metric.removesuffix("_difference")
        value = "n/a" if r.value is None else f"{100 * r.value:.1f}"
        row = cells.setdefault((*key, str(r.dim), attribute, group), {})
        row[metric] = value
        row["n"] = r.too_few or ("-" if r.n is None else str(r.n))
        metrics[metric] = None
    if not cells:
        return None
    header = ["dataset", "modality", "variant", "dim", "attribute", "group", *metrics, "n"]
    rows = [[*key, *(by.get(m, "-") for m in metrics), by["n"]] for key, by in cells.items()]
    label = "Retrieval quality per group at the largest size, % (n = queries of the group)"
    return f"{label}\n{_render(header, rows, left=6)}"


def latency_table(results: Sequence[Result]) -> str | None:
    """Embedding latency and throughput per modality and purpose (None without results)."""
    rows: dict[tuple[str, str, str], dict[str, str]] = {}
    timed = ""
    for r in results:
        if not r.check.startswith(LATENCY_PREFIX) or r.value is None:
            continue
        key = (r.modality or "-", r.check[len(LATENCY_PREFIX) :], r.variant)
        fmt = f"{r.value:.1f}" if r.metric == "latency_ms_per_item" else f"{r.value:.2f}"
        rows.setdefault(key, {"n": str(r.n or "-")})[r.metric] = fmt
        timed = str(r.details.get("timed", timed))
    if not rows:
        return None
    header = ["modality", "purpose", "variant", "ms/item", "items/s", "n"]
    body = [
        [
            *key,
            v.get("latency_ms_per_item", "-"),
            v.get("throughput_items_per_s", "-"),
            v["n"],
        ]
        for key, v in sorted(rows.items())
    ]
    return f"Embedding latency (one batched call; {timed})\n{_render(header, body, left=3)}"


def search_table(results: Sequence[Result]) -> str | None:
    """How the rankings were searched; for an approximate engine its recall per row and size.

    Rows and columns are those of the degradation tables, so each recall sits at the
    position of the numbers computed from those rankings. None without search results.
    """
    cells: dict[tuple[str, str, str], dict[int, str]] = {}
    engines: set[str] = set()
    depth = set()
    for r in results:
        d = r.details
        if r.group is not None or r.dim is None or "engine" not in d or "depth" not in d:
            continue
        engines.add(str(d["engine"]))
        if d.get("search_exact", True):
            continue
        k = str(d["depth"])
        recall = (d.get("search_recall_at") or {}).get(k)
        depth.add(k)
        key = (r.check, r.modality or "-", r.variant)
        cells.setdefault(key, {})[r.dim] = "n/a" if recall is None else f"{recall:.3f}"
    if not engines:
        return None
    if not cells:
        return f"Search: {', '.join(sorted(engines))} (exact; equal scores ordered by corpus id)"
    columns = sorted({dim for row in cells.values() for dim in row}, reverse=True)
    header = ["dataset", "modality", "variant", *(str(dim) for dim in columns)]
    rows = [[*key, *(cells[key].get(dim, "-") for dim in columns)] for key in sorted(cells)]
    label = (
        f"Approximate search ({', '.join(sorted(engines))}): recall@{'/'.join(sorted(depth))} of "
        "the rankings against exact search; every number above was computed from them "
        "(details.search_recall holds the recall at each metric's own k)"
    )
    return f"{label}\n{_render(header, rows, left=3)}"


def summary_text(results: Sequence[Result]) -> str | None:
    """The suite's terminal summary: the Table-3-shaped degradation tables (Avg of R@1/5/10
    and NDCG@10), a legend, the latency table."""
    blocks = [
        t for metrics, label in TABLE_METRICS if (t := degradation_table(results, metrics, label))
    ]
    if blocks:
        blocks.insert(0, "Matryoshka degradation by embedding size (seed report Table 3 shape)")
    if any("*" in b for b in blocks[1:]):
        blocks.append(
            "* untrained truncation: first d coordinates, re-normalised, of a model not "
            "trained for size d"
        )
    groups = group_table(results)
    if groups:
        blocks.append(groups)
    searched = search_table(results)
    if searched and blocks:
        blocks.append(searched)
    lat = latency_table(results)
    if lat:
        blocks.append(lat)
    return "\n\n".join(blocks) if blocks else None
