"""Runs shaped like a real `audit run` of `local` (issue 18), for the dashboard tests.

The shapes are those of a real run's report.json: the debiased embedder is one dimension
smaller (383 vs 384) and skew is ``skew@10`` per group; red-team budgets are
``details.eps = eps_255 / 255`` with one defended result per defense
(``details.defense``) and one set of before/after files shared by three metrics;
retrieval has per-group values at several sizes beside ``*_difference`` and ``*_ratio``
results whose group is the attribute. The gate is judged by the real gate code
(``audit.gates.evaluate``) with the default policy's list selector.

Runs, newest first: ``r5-safety`` (safety only, like a comparison sub-run),
``r4-retrieval``, ``r3-redteam``, ``r2-bias``, ``r1-redteam``.
"""

from __future__ import annotations

import io
from pathlib import Path

from audit.report import EmbedderInfo, Report, Result

SOCIAL = [f"weat/weat{i}" for i in range(3, 11)]  # what weat/weat[3-9],weat/weat10 selects
OTHER_WEAT = ["weat/weat1", "weat/weat2", "weat/weat11"]
GATE = "bias-weat-social"
SELECTOR = "weat/weat[3-9],weat/weat10"
POLICY = """
[[gate]]
name = "bias-weat-social"
suite = "bias"
check = ["weat/weat[3-9]", "weat/weat10"]
metric = "effect_size"
variant = "raw"
max_abs = 0.1
dimension = "fairness"
"""
EPS_255 = [1, 2, 4, 8]
DEFENSES = {"jpeg": 0.5, "bit-depth": 0.9}  # defended ASR = raw x factor
SIZES = [384, 128]
LONG_GROUPS = ["skin_tone=medium-dark", "skin_tone=medium-light"]


def _report(run_id: str, day: int, suite: str, results: list[Result]) -> Report:
    return Report(
        run_id=run_id,
        created_at=f"2026-04-0{day}T00:00:00+00:00",
        tool_version="0.1.0",
        suite=suite,
        embedder=EmbedderInfo(spec="local", name="local", modalities=["text", "image"], dim=384),
        results=results,
    )


def bias_results() -> list[Result]:
    out = []
    for i, check in enumerate(SOCIAL + OTHER_WEAT):
        raw = 0.2 + 0.1 * i
        for variant, dim, value in (("raw", 384, raw), ("debiased", 383, raw / 2)):
            out.append(
                Result(
                    suite="bias",
                    check=check,
                    metric="effect_size",
                    value=value,
                    variant=variant,
                    dim=dim,
                    modality="text",
                )
            )
        out.append(
            Result(
                suite="bias",
                check=check,
                metric="effect_size",
                value=-raw / 2,
                variant="delta",
                dim=383,
                modality="text",
            )
        )
    for variant, dim, scale in (("raw", 384, 1.0), ("debiased", 383, 0.5)):
        for group, skew in (("man", 0.4), ("woman", -0.6), ("person", 0.1)):
            out.append(
                Result(
                    suite="bias",
                    check="skew/emoji-professions/gender",
                    metric="skew@10",
                    value=skew * scale,
                    variant=variant,
                    dim=dim,
                    modality="text->image",
                    group=group,
                )
            )
        out.append(
            Result(
                suite="bias",
                check="skew/emoji-professions/gender",
                metric="max_skew@10",
                value=0.4 * scale,
                variant=variant,
                dim=dim,
                modality="text->image",
            )
        )
    return out


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def redteam_results(run_dir: Path) -> list[Result]:
    art = run_dir / "artifacts" / "redteam"
    art.mkdir(parents=True, exist_ok=True)
    files = {}
    for side in ("before", "after"):
        (art / f"image-pgd-eps8-0-{side}.png").write_bytes(_png())
        files[f"obj.pear {side}"] = f"artifacts/redteam/image-pgd-eps8-0-{side}.png"
    out = []
    for e in EPS_255:
        raw = min(1.0, 0.25 * e / 2)
        base = {"eps": e / 255, "eps_255": e}
        extra = {"artifacts": files} if e == EPS_255[-1] else {}
        for metric, value in (
            ("attack_success_rate", raw),
            ("recall@1_attacked", 1 - raw),
            ("cosine_drift", 0.1 * e),
        ):
            out.append(
                Result(
                    suite="redteam",
                    check="image/pgd",
                    metric=metric,
                    value=value,
                    variant="raw",
                    modality="image->text",
                    details={**base, "defense": None, **extra},
                )
            )
        for defense, factor in DEFENSES.items():
            out.append(
                Result(
                    suite="redteam",
                    check="image/pgd",
                    metric="attack_success_rate",
                    value=raw * factor,
                    variant="defended",
                    modality="image->text",
                    details={**base, "defense": defense},
                )
            )
    return out


def group_values(dim: int) -> dict[str, float]:
    """recall@10 per group at one size (the larger size is better)."""
    scale = 1.0 if dim == 384 else 0.5
    return {
        "gender=man": 0.8 * scale,
        "gender=woman": 0.4 * scale,
        LONG_GROUPS[0]: 0.6 * scale,
        LONG_GROUPS[1]: 0.3 * scale,
    }


def retrieval_results() -> list[Result]:
    out = []
    for dim in SIZES:
        values = group_values(dim)
        common = {"suite": "retrieval", "check": "emoji-professions", "dim": dim}
        common |= {"modality": "text->image", "variant": "raw"}
        out.append(Result(metric="recall@10", value=sum(values.values()) / 4, **common))
        for group, value in values.items():
            out.append(Result(metric="recall@10", value=value, group=group, **common))
        for attr in ("gender", "skin_tone"):
            mine = [v for g, v in values.items() if g.startswith(attr + "=")]
            out.append(
                Result(
                    metric="recall@10_difference",
                    value=max(mine) - min(mine),
                    group=attr,
                    **common,
                )
            )
            out.append(
                Result(metric="recall@10_ratio", value=min(mine) / max(mine), group=attr, **common)
            )
    return out


def safety_results() -> list[Result]:
    return [Result(suite="safety", check="nsfw-text", metric="block_rate", value=0.9)]


def write_issue18_runs(root: Path) -> Path:
    """Write the five runs under ``root`` (the bias run judged by :data:`POLICY`)."""
    from audit.gates import evaluate, parse_policy

    bias = _report("r2-bias", 2, "bias", bias_results())
    bias.gates = evaluate(parse_policy(POLICY), bias)
    bias.save(root / "r2-bias" / "report.json")
    for run_id, day in (("r1-redteam", 1), ("r3-redteam", 3)):
        _report(run_id, day, "redteam", redteam_results(root / run_id)).save(
            root / run_id / "report.json"
        )
    _report("r4-retrieval", 4, "retrieval", retrieval_results()).save(
        root / "r4-retrieval" / "report.json"
    )
    _report("r5-safety", 5, "safety", safety_results()).save(root / "r5-safety" / "report.json")
    return root
