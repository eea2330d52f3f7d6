"""One bias report with the statistical reading stored once (issue 18), for the readers.

Raw p-values are planted (data); ``p_adjusted``, ``p_family``, ``too_few`` and the deltas
are computed by the bias suite's own post-processing (``finish_statistics``, ``deltas``),
exactly once. The tests then check each reader shows those stored numbers.
"""

from __future__ import annotations

from audit.report import EmbedderInfo, Report, Result, TestInfo
from audit.suites._bias import deltas, finish_statistics

ALPHA = 0.05
#: check: (raw d, raw p, debiased d, debiased p). seat/weat7 is the planted
#: over-correction of issue 18: d = +0.11 raw, -1.35 debiased and significant.
PLANTED = {
    "weat/weat1": (1.42, 0.0004, 0.40, 0.03),
    "weat/weat4": (0.95, 0.021, 0.20, 0.40),
    "weat/weat5": (0.90, 0.028, 0.10, 0.70),
    "weat/weat8": (0.30, 0.45, -0.75, 0.06),
    "seat/weat6": (0.85, 0.004, 0.30, 0.20),
    "seat/weat7": (0.11, 0.62, -1.35, 0.0002),
}
#: Targets per set; 4 + 4 targets give C(8, 4) = 70 partitions, enough to reach 0.05.
N_TARGETS = (8, 8)


def _result(check: str, variant: str, d: float, p: float, n: tuple[int, int]) -> Result:
    return Result(
        suite="bias",
        check=check,
        metric="effect_size",
        value=d,
        variant=variant,
        dim=16,
        modality="text",
        ci_low=d - 0.2,
        ci_high=d + 0.2,
        p_value=p,
        n=sum(n),
        details={"description": f"{check}: planted", "n_targets": list(n), "alpha": ALPHA},
        test=TestInfo(name="permutation (exact)", sidedness="two-sided", statistic=d),
    )


def fixture_results() -> list[Result]:
    """Raw and debiased results, the one stored reading, and the deltas (suite order)."""
    raw = [_result(c, "raw", d, p, N_TARGETS) for c, (d, p, _, _) in PLANTED.items()]
    deb = [_result(c, "debiased", d, p, N_TARGETS) for c, (_, _, d, p) in PLANTED.items()]
    # A test with 2 + 2 targets: C(4, 2) = 6 partitions, smallest two-sided p 2/6 > 0.05.
    tiny = _result("weat/tiny", "raw", 1.9, 0.33, (2, 2))
    everything = [*raw, tiny, *deb]
    finish_statistics(everything, ALPHA)
    return [*raw, tiny, *deb, *deltas(raw, deb, ALPHA)]


def fixture_report() -> Report:
    return Report(
        run_id="one-reading",
        created_at="2026-04-01T00:00:00+00:00",
        tool_version="0.1.0",
        suite="bias",
        embedder=EmbedderInfo(spec="hash", name="hash", modalities=["text"], dim=16),
        results=fixture_results(),
    )


def holm_by_hand(ps: list[float]) -> list[float]:
    """Holm-Bonferroni written out: sort, scale by (m - rank), running max, cap at 1."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        out[i] = running
    return out
