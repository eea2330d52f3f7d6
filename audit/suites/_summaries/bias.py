"""The bias suite's terminal summary, computed from a report's results only."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from audit.report import Result
from audit.suites._summaries._holm import FAMILY_RULE, significant

COVERAGE_CHECK = "coverage"
CAVEATS = (
    "image vectors of the local embedder are ConSE mixtures of ImageNet class-name "
    "embeddings (a weak path: it sees objects, barely people)",
    "speech vectors embed Whisper transcripts, so voice only matters through transcription errors",
    "emoji are cartoons from one font, not people; their groups are Unicode forms",
    "association p-values are two-sided permutation tests (skew and gap tests one-sided, "
    "in the direction of bias); 'significant' means the stored Holm-adjusted p < alpha, "
    "a large effect can still be a property of the stimuli",
)


def _f(v: float | None, digits: int = 2, sign: bool = False) -> str:
    if v is None:
        return "-"
    return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"


def _p(r: Result | None) -> str:
    """The stored adjusted p-value, or why the result cannot be read (``too few``)."""
    if r is not None and r.too_few:
        return "too few"
    if r is None or r.p_adjusted is None:
        return "-"
    p = r.p_adjusted
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def _index(results: Sequence[Result]) -> dict[tuple[str, str, str, str | None], Result]:
    return {(r.check, r.metric, r.variant, r.group): r for r in results}


def _label(r: Result) -> str:
    text = str(r.details.get("description", ""))
    head = text.split(". ")[0].split(": ")[-1]
    return head if len(head) <= 36 else head[:33] + "..."


def _mark(r: Result | None, alpha: float) -> str:
    if r is not None and r.too_few:
        return "?"  # too few samples to read: no verdict-looking star
    return "*" if significant(r, alpha) else " "


def summary_text(results: Sequence[Result]) -> str | None:
    """Readable tables and a verdict: what is significant, what the projection changed."""
    if not results:
        return None
    cover = next((r for r in results if r.check == COVERAGE_CHECK), None)
    alpha = float(cover.details.get("alpha", 0.05)) if cover else 0.05
    view = _View(results, alpha)
    families = sorted({r.p_family for r in results if r.p_family})
    lines = [
        "",
        f"Bias summary: * = significant at alpha={alpha} by the stored adjusted p-value "
        f"(p_adj; {FAMILY_RULE}); ? = too few samples to read (reason below).",
    ]
    if any(r.p_value is not None and r.p_adjusted is None for r in results):
        lines.append("Some p-values have no stored adjustment (an old report): shown as '-'.")
    if families:
        lines.append("Families: " + "; ".join(families))
    verdict: list[str] = []
    for section in (_association, _skew, _gaps, _cost):
        section(view, lines, verdict)
    lines += ["", "Verdict:", *(f"- {v}" for v in verdict)]
    for r in results:
        if r.too_few and r.variant != "delta":
            lines.append(f"- too few samples: {r.check} {r.metric} [{r.variant}]: {r.too_few}")
    if cover:
        for name, reason in cover.details.get("skipped", {}).items():
            lines.append(f"- not run: {name} ({reason})")
        for name, reason in cover.details.get("failed", {}).items():
            lines.append(f"- FAILED: {name} ({reason})")
        proj = cover.details.get("projection")
        if proj:
            where = proj.get("dataset") or proj.get("path")
            lines.append(f"- debiased = {proj.get('kind')} fitted on {where}")
    lines += ["Caveats: " + "; ".join(CAVEATS) + ". See docs/bias.md."]
    return "\n".join(lines)


class _View:
    """Results indexed for the sections."""

    def __init__(self, results: Sequence[Result], alpha: float) -> None:
        self.results = list(results)
        self.alpha = alpha
        self.idx = _index(results)
        self.deb = any(r.variant == "debiased" for r in results)

    def get(self, r: Result, variant: str, metric: str | None = None) -> Result | None:
        return self.idx.get((r.check, metric or r.metric, variant, r.group))

    def raw(self, keep: Callable[[Result], bool]) -> list[Result]:
        return [r for r in self.results if r.variant == "raw" and keep(r)]

    def mark(self, r: Result | None) -> str:
        return _mark(r, self.alpha)

    def sig(self, r: Result | None) -> bool:
        return r is not None and significant(r, self.alpha)


def _association(v: _View, lines: list[str], verdict: list[str]) -> None:
    assoc = v.raw(lambda r: r.metric == "effect_size")
    if not assoc:
        return
    rows = []
    for r in assoc:
        d, delta = v.get(r, "debiased"), v.get(r, "delta")
        row = [r.check, _label(r), r.modality or "-", _f(r.value, sign=True) + v.mark(r)]
        row += [f"[{_f(r.ci_low, sign=True)}, {_f(r.ci_high, sign=True)}]", _p(r)]
        if v.deb:
            change = delta.details.get("abs_change") if delta else None
            fitted = "~" if d is not None and d.details.get("fit_overlap") else ""
            row += [_f(d.value if d else None, sign=True) + v.mark(d) + fitted, _p(d)]
            row += [_f(change, sign=True)]
        rows.append(row)
    head = ["test", "what", "modality", "raw d", "95% CI", "p_adj"]
    head += ["debiased d", "p_adj", "change |d|"] if v.deb else []
    lines += [
        "",
        "Association tests (d: + = targets X closer to attributes A; "
        "|d| 0.2 small, 0.5 medium, 0.8 large)",
        *_table(head, rows),
    ]
    in_sample = [r for r in assoc if (v.get(r, "debiased") or r).details.get("fit_overlap")]
    if v.deb and in_sample:
        lines.append("~ = the projection was fitted on some of this test's words (in-sample)")
    for r in assoc:
        attr = r.details.get("control_for")
        if attr:
            verdict.append(
                f"control {r.check} is significant: the {r.modality} path separates the "
                f"{attr} groups"
                if v.sig(r)
                else f"control {r.check} is NOT significant: the {r.modality} path does not "
                f"separate the {attr} groups, so its {attr} tests cannot show bias"
            )
    sig = [r for r in assoc if v.sig(r)]
    verdict.append(
        f"{len(sig)} of {len(assoc)} association tests significant (raw)"
        + (": " + ", ".join(f"{r.check} d={r.value:+.2f}" for r in sig) if sig else "")
    )
    for r in assoc:
        delta = v.get(r, "delta")
        if delta is not None and delta.details.get("sign_reversed"):
            d = v.get(r, "debiased")
            verdict.append(
                f"OVER-CORRECTED {r.check}: d {r.value:+.2f} raw -> {d.value:+.2f} debiased "  # type: ignore[union-attr]
                "(sign reversed, significant the other way)"
            )
    if v.deb:
        deltas = [v.get(r, "delta") for r in assoc]
        changes = [d.details["abs_change"] for d in deltas if d and "abs_change" in d.details]
        still = [r.check for r in assoc if v.sig(v.get(r, "debiased"))]
        verdict.append(
            f"debiased: |d| smaller in {sum(c < 0 for c in changes)} of {len(changes)} tests "
            f"({len(in_sample)} partly in-sample ~); {len(still)} still significant"
            + (" (" + ", ".join(still) + ")" if still else "")
        )


def _skew(v: _View, lines: list[str], verdict: list[str]) -> None:
    skew = v.raw(lambda r: r.metric.startswith("max_skew@"))
    if not skew:
        return
    rows = []
    for r in skew:
        k = r.metric.split("@")[1]
        by_group = r.details.get("mean_skew_by_group", {})
        top = max(by_group, key=by_group.get) if by_group else "-"
        ndkl = v.get(r, "raw", f"ndkl@{k}")
        null = r.details.get("null_mean", {})
        row = [r.check, k, _f(r.value) + v.mark(r), _f(null.get("max_skew")), _p(r), top]
        row += [_f(ndkl.value if ndkl else None, 3) + v.mark(ndkl)]
        if v.deb:
            d = v.get(r, "debiased")
            row += [_f(d.value if d else None) + v.mark(d), _p(d)]
        rows.append(row)
    head = ["check", "k", "MaxSkew", "blind", "p_adj", "most shown", "NDKL"]
    head += ["deb. MaxSkew", "p_adj"] if v.deb else []
    lines += [
        "",
        "Retrieval skew of neutral queries (MaxSkew@k = ln(top-k share / target) of the most "
        "over-shown group; 'blind' = a group-blind ranking's value)",
        *_table(head, rows),
    ]
    sig = [r for r in skew if v.sig(r)]
    verdict.append(
        f"skew: {len(sig)} of {len(skew)} MaxSkew values beyond a group-blind ranking"
        + (": " + ", ".join(f"{r.check}@{r.metric.split('@')[1]}" for r in sig) if sig else "")
    )


def _gaps(v: _View, lines: list[str], verdict: list[str]) -> None:
    gaps = v.raw(lambda r: r.metric.endswith("_difference"))
    if not gaps:
        return
    rows = []
    for r in gaps:
        bg = r.details.get("by_group", {})
        best, worst = r.details.get("best_group"), r.details.get("worst_group")
        row = [r.check, r.metric.removesuffix("_difference")]
        row += [f"{best} {_f(bg.get(best))}", f"{worst} {_f(bg.get(worst))}"]
        row += [_f(r.value) + v.mark(r), f"[{_f(r.ci_low)}, {_f(r.ci_high)}]", _p(r)]
        if v.deb:
            d = v.get(r, "debiased")
            row += [_f(d.value if d else None) + v.mark(d)]
        rows.append(row)
    head = ["check", "metric", "best group", "worst group", "gap", "95% CI", "p_adj"]
    head += ["debiased gap"] if v.deb else []
    lines += ["", "Per-group retrieval quality (gap = best - worst group)", *_table(head, rows)]
    sig = [r for r in gaps if v.sig(r)]
    verdict.append(
        f"quality gaps: {len(sig)} of {len(gaps)} significant"
        + (": " + ", ".join(f"{r.check} {r.metric}" for r in sig) if sig else "")
    )


def _cost(v: _View, lines: list[str], verdict: list[str]) -> None:
    cost = v.raw(lambda r: r.check.startswith("projection-cost/"))
    if not cost:
        return
    debiased = {
        (r.check, r.metric, r.details.get("size_label")): r
        for r in v.results
        if r.variant == "debiased" and r.check.startswith("projection-cost/")
    }
    rows = []
    for r in cost:
        d = debiased.get((r.check, r.metric, r.details.get("size_label")))
        change = None if d is None or d.value is None or r.value is None else d.value - r.value
        dims = f"{r.dim}/{d.dim if d else '-'}"
        rows.append([r.check, r.metric, dims, _f(r.value, 3), _f(d.value if d else None, 3)])
        rows[-1].append(_f(change, 3, sign=True))
    head = ["check", "metric", "dim raw/deb", "raw", "debiased", "change"]
    lines += ["", "Retrieval cost of the projection (raw vs debiased at each size)"]
    lines += _table(head, rows)
