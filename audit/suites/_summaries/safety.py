"""The safety suite's terminal summary, computed from a report's results only.

Every result of the suite is shown, grouped so each table has the column that tells its
rows apart: the labelled sets (detection), benign sets (false positives) with the filter
variant, the false-positive rate of every group (identity, gender, skin tone, voice...),
evasion recall per obfuscation and filter variant, the calibration check per concept, and
latency. Numbers are read from the results; nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from audit.report import Result

SUITE = "safety"
#: Metrics of the labelled-set table, in column order.
DETECTION = ("recall", "precision", "f1", "false_positive_rate", "block_rate")
#: Metrics of the benign-set table, in column order.
BENIGN = ("false_positive_rate", "block_rate", "flag_rate")
GROUPS = "/groups/"


def _f(v: object, digits: int = 3) -> str:
    return "-" if not isinstance(v, int | float) else f"{v:.{digits}f}"


def _ci(r: Result) -> str:
    if r.too_few is not None:
        return f"too few (n={r.n})"
    if r.ci_low is None or r.ci_high is None:
        return "-"
    return f"[{_f(r.ci_low)}, {_f(r.ci_high)}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


def _pivot(
    results: Sequence[Result],
    row_key: Callable[[Result], tuple[str, ...]],
    columns: Sequence[str],
    column_of: Callable[[Result], str],
) -> list[list[str]]:
    """Rows keyed by ``row_key`` (first-seen order), one cell per column (``-``: none)."""
    cells: dict[tuple[str, ...], dict[str, str]] = {}
    for r in results:
        cells.setdefault(row_key(r), {})[column_of(r)] = _f(r.value)
    return [[*key, *(by.get(c, "-") for c in columns)] for key, by in cells.items()]


def _columns(results: Sequence[Result], column_of: Callable[[Result], str]) -> list[str]:
    return list(dict.fromkeys(column_of(r) for r in results))


def _is_labelled(r: Result) -> bool:
    return r.check.startswith("labelled/") and r.metric in DETECTION


def _is_benign(r: Result) -> bool:
    benign = r.check.startswith(("benign/", "text/benign/")) or r.check == "text/dictionary-words"
    return benign and GROUPS not in r.check and r.metric in BENIGN


def _is_group(r: Result) -> bool:
    return GROUPS in r.check and (r.group is not None or r.metric == "fpr_gap")


def _is_evasion(r: Result) -> bool:
    text = r.check.startswith("evasion/text/") and r.metric == "recall"
    return text or r.check.startswith(("evasion/image/", "text/abuse/"))


def _detection(rs: Sequence[Result]) -> list[str]:
    mine = [r for r in rs if _is_labelled(r)]
    if not mine:
        return []
    cols = [m for m in DETECTION if any(r.metric == m for r in mine)]
    recall = {(r.check, r.variant): r for r in mine if r.metric == "recall"}
    rows = _pivot(mine, lambda r: (r.check, r.variant, r.modality or "-"), cols, lambda r: r.metric)
    for row in rows:
        rec = recall.get((row[0], row[1]))
        row += [_ci(rec) if rec else "-", str(rec.n) if rec and rec.n is not None else "-"]
    head = ["check", "variant", "modality", *cols, "recall 95% CI", "n unsafe"]
    return [
        "Detection on labelled sets (recall = share of unsafe items caught)",
        *_table(head, rows),
    ]


def _benign(rs: Sequence[Result]) -> list[str]:
    mine = [r for r in rs if _is_benign(r)]
    if not mine:
        return []
    cols = [m for m in BENIGN if any(r.metric == m for r in mine)]
    fpr = {(r.check, r.variant): r for r in mine if r.metric == "false_positive_rate"}
    rows = _pivot(mine, lambda r: (r.check, r.variant, r.modality or "-"), cols, lambda r: r.metric)
    for row in rows:
        f = fpr.get((row[0], row[1]))
        n = next((r.n for r in mine if (r.check, r.variant) == (row[0], row[1])), None)
        row += [_ci(f) if f else "-", "-" if n is None else str(n)]
    head = ["check", "variant", "modality", *cols, "FPR 95% CI", "n"]
    return [
        "False positives on benign data (FPR = share of benign items flagged or blocked)",
        *_table(head, rows),
    ]


def _groups(rs: Sequence[Result]) -> list[str]:
    rates = [r for r in rs if _is_group(r) and r.group is not None]
    gaps = {(r.check, r.variant): r for r in rs if GROUPS in r.check and r.metric == "fpr_gap"}
    if not rates:
        return []
    rows = []
    for r in rates:
        where, _, attr = r.check.partition(GROUPS)
        group = r.group.partition("=")[2] or r.group  # type: ignore[union-attr]
        rows.append([where, r.variant, attr, group, _f(r.value), _ci(r), str(r.n or "-")])
    lines = [
        "False-positive rate per group on benign data (a gap means some groups are flagged "
        "more often)",
        *_table(["check", "variant", "attribute", "group", "FPR", "95% CI", "n"], rows),
    ]
    for (check, variant), g in gaps.items():
        p = "-" if g.p_value is None else f"{g.p_value:.3g}"
        worst = g.details.get("worst_group", "-")
        lines.append(
            f"  {check} ({variant}): gap {_f(g.value)} (max - min FPR), worst group {worst}, "
            f"chi-square p = {p}"
        )
    return lines


def _evasion(rs: Sequence[Result]) -> list[str]:
    lines: list[str] = []
    text = [r for r in rs if r.check.startswith("evasion/text/") and r.metric == "recall"]
    if text:
        cols = _columns(text, lambda r: r.variant)
        rows = _pivot(
            text, lambda r: (r.check.removeprefix("evasion/text/"),), cols, lambda r: r.variant
        )
        lines += [
            "",
            "Evasion: recall on obfuscated offensive text, per filter variant",
            *_table(["obfuscation", *cols], rows),
        ]
    abuse = [r for r in rs if r.check.startswith("text/abuse/")]
    if abuse:
        cols = _columns(abuse, lambda r: f"{r.variant} {r.metric}")
        rows = _pivot(
            abuse,
            lambda r: (r.check.removeprefix("text/abuse/"),),
            cols,
            lambda r: f"{r.variant} {r.metric}",
        )
        lines += [
            "",
            "Text path: detection and block rates on obfuscated abuse, per policy",
            *_table(["obfuscation", *cols], rows),
        ]
    image = [r for r in rs if r.check.startswith("evasion/image/")]
    if image:
        cols = _columns(image, lambda r: r.metric)

        def key(r: Result) -> tuple[str, ...]:
            matcher, _, transform = r.check.removeprefix("evasion/image/").partition("/")
            return (matcher, transform)

        rows = _pivot(image, key, cols, lambda r: r.metric)
        lines += [
            "",
            "Evasion: hash-list matching of transformed images, per matcher",
            *_table(["matcher", "transform", *cols], rows),
        ]
    return lines


def _rest(rs: Sequence[Result], shown: set[int]) -> list[str]:
    """Every result the sections above did not show (calibration, latency, new checks)."""
    left = [r for r in rs if id(r) not in shown]
    if not left:
        return []
    rows = [
        [
            r.check,
            r.metric,
            r.variant,
            r.group or "-",
            r.modality or "-",
            _f(r.value),
            _ci(r),
            "-" if r.n is None else str(r.n),
        ]
        for r in left
    ]
    head = ["check", "metric", "variant", "group", "modality", "value", "95% CI", "n"]
    return ["", "Other safety results (calibration, latency...)", *_table(head, rows)]


def _shown(rs: Sequence[Result]) -> set[int]:
    """Ids of the results the grouped sections show (the rest go to :func:`_rest`)."""
    shown = (_is_labelled, _is_benign, _is_group, _is_evasion)
    return {id(r) for r in rs if any(is_(r) for is_ in shown)}


def summary_text(results: Sequence[Result]) -> str | None:
    """Detection, benign false positives, per-group false positives, evasion and the rest."""
    rs = [r for r in results if r.suite == SUITE]
    if not rs:
        return None
    blocks = [_detection(rs), _benign(rs), _groups(rs)]
    lines = ["", "Safety summary (every result of the suite, grouped)"]
    for block in blocks:
        if block:
            lines += ["", *block]
    lines += _evasion(rs)
    lines += _rest(rs, _shown(rs))
    few = sorted({r.too_few for r in rs if r.too_few})
    lines += [f"too few: {reason}" for reason in few]
    return "\n".join(lines)
