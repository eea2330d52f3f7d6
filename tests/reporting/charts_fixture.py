"""A small report with results of all four suites (and red-team example images on disk)
for the chart, thumbnail and browser tests. Labels can be made hostile: check and group
names then carry markup that must come out of every chart as text only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from audit.report import EmbedderInfo, Report, Result

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
HREF = "<a href='https://198.51.100.7/x'>x</a>"
HOSTILE = (SCRIPT, IMG, HREF)


def chart_report(*, hostile: bool = False) -> Report:
    """A report whose results exercise every chart; ``hostile`` plants markup in names."""
    tag = (lambda s: f"{s} {SCRIPT}") if hostile else (lambda s: s)
    gtag = (lambda s: f"{s}{IMG}") if hostile else (lambda s: s)
    results: list[Result] = []
    add = results.append
    # fairness: effect sizes raw vs debiased (weat2 over-corrected), skew per group.
    for check, raw, deb in (("weat/weat1", 1.24, 0.31), (tag("weat/weat2"), 0.62, -1.35)):
        for variant, d in (("raw", raw), ("debiased", deb)):
            add(
                Result(
                    suite="bias", check=check, metric="effect_size", value=d, variant=variant,
                    ci_low=d - 0.2, ci_high=d + 0.2, p_value=0.01, p_adjusted=0.02,
                    p_family="holm:bias/weat", modality="text", n=40,
                )
            )  # fmt: skip
    for group, raw, deb in ((gtag("gender=man"), 0.59, 0.05), ("gender=woman", -0.69, -0.1)):
        for variant, s in (("raw", raw), ("debiased", deb)):
            add(
                Result(
                    suite="bias", check=tag("skew/prof/gender"), metric="skew@10", value=s,
                    variant=variant, group=group, ci_low=s - 0.1, ci_high=s + 0.1, n=60,
                )
            )  # fmt: skip
    # a gap row (other unit): never drawn beside per-group values.
    add(Result(suite="retrieval", check="prof", metric="ndcg@10_difference", value=2.25,
               group="gender", dim=64, modality="text->image"))  # fmt: skip
    # quality: ndcg@10 per group and size.
    for dim in (64, 384):
        for group, v in ((gtag("gender=man"), 0.41), ("gender=woman", 0.30)):
            v = v * dim / 384
            add(
                Result(
                    suite="retrieval", check=tag("prof"), metric="ndcg@10", value=v, dim=dim,
                    group=group, modality="text->image", ci_low=v / 2, ci_high=min(1, v * 1.5),
                )
            )  # fmt: skip
    # robustness: eps sweep with two defenses; a query-budget attack.
    eps255 = {2.0: 0.0078431372549, 8.0: 0.0313725490196}
    for e, asr in ((2.0, 0.5), (8.0, 0.875)):
        for variant, defense, v in (("raw", None, asr), ("defended", "jpeg", asr / 2),
                                    ("defended", gtag("bit-depth"), asr - 0.125)):  # fmt: skip
            add(
                Result(
                    suite="redteam", check=tag("image/pgd"), metric="attack_success_rate",
                    value=v, variant=variant, modality="image->text", n=8,
                    details={"defense": defense, "eps": eps255[e], "eps_255": e},
                )
            )  # fmt: skip
    for budget, v in ((10, 0.25), (50, 0.5)):
        add(
            Result(
                suite="redteam", check="image/square", metric="attack_success_rate", value=v,
                modality="image->text", details={"budget": budget, "eps_255": 8.0},
            )
        )  # fmt: skip
    # safety: detection per check; false positives per group.
    for check, v in (("text/abuse/plain", 1.0), (tag("text/abuse/leet"), 0.62)):
        hi = min(1.0, v + 0.05)
        add(Result(suite="safety", check=check, metric="detection_rate", value=v,
                   variant="default", ci_low=v - 0.1, ci_high=hi, n=120))  # fmt: skip
    for group, v in ((gtag("identity=Muslim"), 0.2), ("identity=Jewish", 0.05)):
        add(Result(suite="safety", check="benign/identity", metric="false_positive_rate",
                   value=v, variant="filter", group=group, ci_low=0.0, ci_high=v + 0.1,
                   n=20))  # fmt: skip
    return Report(
        run_id=tag("run"),
        tool_version="0.0-test",
        suite="all",
        embedder=EmbedderInfo(spec="local", name=tag("model"), modalities=["text"], dim=384),
        results=results,
    )


def write_examples(run_dir: Path, report: Report, n_pairs: int = 2) -> dict[str, np.ndarray]:
    """Write ``n_pairs`` before/after PNGs (16x12, distinct pixels) for the first red-team
    result and point its ``details.artifacts`` at them. Returns the arrays by path."""
    rng = np.random.default_rng(7)
    target = next(r for r in report.results if r.suite == "redteam")
    refs: dict[str, str] = {}
    arrays: dict[str, np.ndarray] = {}
    folder = run_dir / "artifacts" / "redteam"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_pairs):
        for side in ("before", "after"):
            arr = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
            rel = f"artifacts/redteam/ex{i}-{side}.png"
            Image.fromarray(arr).save(run_dir / rel)
            refs[f"item{i} {side}"] = rel
            arrays[rel] = arr
    target.details["artifacts"] = refs
    return arrays
