"""Synthetic demo run directories for the dashboard's tests and screenshots.

The numbers are made up by simple formulas to exercise every page (they are not
measurements of any model); the embedder is named ``synthetic-fixture`` so a screenshot
cannot be mistaken for a real audit. Reports are built with the real schema
(``audit.report``) and saved the way the runner saves them.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from audit.report import EmbedderInfo, GateResult, Report, Result, Wrappers

__all__ = ["BASELINE_ID", "CANDIDATE_ID", "PARTIAL_ID", "RUNNING_ID", "write_demo_runs"]

BASELINE_ID = "20260301T090000Z-all-a1b2c3"
CANDIDATE_ID = "20260302T090000Z-all-d4e5f6"
PARTIAL_ID = "20260303T090000Z-bias-0f0f0f"
RUNNING_ID = "20260303T100000Z-retrieval-9e9e9e"

DIMS = (3072, 1024, 384, 256)
WEAT = {  # name: (raw effect size, p-value)
    "weat1": (1.42, 0.0004),
    "weat3": (0.91, 0.003),
    "weat6": (0.35, 0.21),
    "weat8": (-0.12, 0.64),
}
EPS = (1 / 255, 2 / 255, 4 / 255, 8 / 255)


def _embedder() -> EmbedderInfo:
    return EmbedderInfo(
        spec="demo",
        name="synthetic-fixture (not a real model)",
        modalities=["text", "image", "audio"],
        dim=DIMS[0],
        matryoshka_dims=list(DIMS),
    )


def _adjust(results: list[Result]) -> list[Result]:
    """Store Holm-adjusted p-values as the bias suite does: one family per variant of the
    demo's WEAT tests (bias/<variant>/weat; the rule: docs/bias-statistics.md). The
    dashboard may not import the suite's rule; tests/dashboard check these values equal
    :func:`audit.suites._summaries._holm.adjust_families`."""
    from fairness.probes import holm_bonferroni

    for variant in ("raw", "debiased"):
        fam = [r for r in results if r.variant == variant and r.p_value is not None]
        for r, p in zip(fam, holm_bonferroni([r.p_value for r in fam]), strict=True):
            r.p_adjusted = float(p)
            r.p_family = f"holm:bias/{variant}/weat (m={len(fam)})"
    return results


def _bias(shift: float) -> list[Result]:
    return _adjust(_bias_results(shift))


def _bias_results(shift: float) -> list[Result]:
    out = []
    for name, (d, p) in WEAT.items():
        d = d + shift if d > 1 else d
        for variant, scale in (("raw", 1.0), ("debiased", 0.3)):
            v = round(d * scale, 4)
            out.append(
                Result(
                    suite="bias",
                    check=f"weat/{name}",
                    metric="effect_size",
                    value=v,
                    variant=variant,
                    dim=DIMS[0],
                    modality="text",
                    ci_low=round(v - 0.3, 4),
                    ci_high=round(v + 0.3, 4),
                    p_value=p if variant == "raw" else min(1.0, p * 40 + 0.05),
                    n=16,
                    details={"description": f"demo association test {name}"},
                )
            )
    for variant, scale in (("raw", 1.0), ("debiased", 0.4)):
        for group, skew in (("woman", -0.62), ("man", 0.48)):
            metric = "max_skew@10" if skew > 0 else "min_skew@10"
            out.append(
                Result(
                    suite="bias",
                    check="skew/professions",
                    metric=metric,
                    value=round(skew * scale, 4),
                    variant=variant,
                    dim=DIMS[0],
                    modality="text->image",
                    group=group,
                    n=30,
                )
            )
        out.append(
            Result(
                suite="bias",
                check="skew/professions",
                metric="ndkl",
                value=round(0.21 * scale, 4),
                variant=variant,
                dim=DIMS[0],
                modality="text->image",
                n=30,
            )
        )
    for group, v in (("skin:light", 0.81), ("skin:medium", 0.77), ("skin:dark", 0.69)):
        out.append(
            Result(
                suite="bias",
                check="disparity/professions",
                metric="recall@10",
                value=v,
                dim=DIMS[0],
                modality="text->image",
                group=group,
                n=60,
            )
        )
    return out


def _retrieval(small_dim_loss: float) -> list[Result]:
    out = []
    pairs = {"emoji-professions": ("text->image", 0.62), "speech": ("text->audio", 0.78)}
    for check, (modality, base) in pairs.items():
        for i, dim in enumerate(DIMS):
            loss = (0.02 + small_dim_loss) * i * i
            for metric, mult in (
                ("recall@1", 1.0),
                ("recall@5", 1.3),
                ("recall@10", 1.4),
                ("ndcg@10", 1.15),
                ("mrr@10", 1.1),
            ):
                out.append(
                    Result(
                        suite="retrieval",
                        check=check,
                        metric=metric,
                        value=round(min(1.0, base * mult) * (1 - loss), 4),
                        dim=dim,
                        modality=modality,
                        n=120,
                    )
                )
    for group, v in (("skin:light", 0.88), ("skin:dark", 0.79)):
        out.append(
            Result(
                suite="retrieval",
                check="emoji-professions",
                metric="recall@10",
                value=v,
                dim=DIMS[0],
                modality="text->image",
                group=group,
                n=60,
            )
        )
    return out


def _safety(fpr: float) -> list[Result]:
    out = []
    rows = {
        "nsfw-image": ("image", {"block_rate": 0.94, "precision": 0.97, "recall": 0.94}),
        "profanity-text": ("text", {"block_rate": 0.89, "precision": 0.95, "recall": 0.89}),
        "benign-text": ("text", {"block_rate": fpr, "false_positive_rate": fpr}),
    }
    for check, (modality, metrics) in rows.items():
        for metric, v in metrics.items():
            out.append(
                Result(
                    suite="safety",
                    check=check,
                    metric=metric,
                    value=v,
                    modality=modality,
                    n=200,
                )
            )
    for group, v in (("dialect:en-US", fpr * 0.8), ("dialect:en-IN", fpr * 1.6)):
        out.append(
            Result(
                suite="safety",
                check="benign-text",
                metric="false_positive_rate",
                value=round(v, 4),
                modality="text",
                group=group,
                n=100,
            )
        )
    for check, v in (("evasion/leetspeak", 0.31), ("evasion/homoglyph", 0.12)):
        out.append(
            Result(suite="safety", check=check, metric="evasion_rate", value=v, modality="text")
        )
    return out


def _redteam(defended_top: float) -> list[Result]:
    out = []
    for i, eps in enumerate(EPS):
        raw = min(1.0, 0.3 + 0.22 * i)
        defended = round(defended_top * (i + 1) / len(EPS), 4)
        for variant, v in (("raw", raw), ("defended", defended)):
            details: dict[str, Any] = {"eps": round(eps, 6), "steps": 20}
            if i == len(EPS) - 1 and variant == "raw":
                details["artifacts"] = {
                    "before": "artifacts/pgd_before.png",
                    "after": "artifacts/pgd_after.png",
                }
            out.append(
                Result(
                    suite="redteam",
                    check="pgd-image",
                    metric="attack_success_rate",
                    value=round(v, 4),
                    variant=variant,
                    modality="image->text",
                    n=50,
                    details=details,
                )
            )
    for budget in (1, 2, 4, 8):
        out.append(
            Result(
                suite="redteam",
                check="query-char-edits",
                metric="attack_success_rate",
                value=round(min(1.0, 0.05 * budget), 4),
                modality="text",
                n=50,
                details={"budget": budget},
            )
        )
    out.append(
        Result(
            suite="redteam",
            check="audio-perturbation",
            metric="attack_success_rate",
            value=0.4,
            modality="audio->text",
            n=20,
            details={
                "eps": 0.002,
                "artifacts": {
                    "before": "artifacts/clip_before.wav",
                    "after": "artifacts/clip_after.wav",
                },
            },
        )
    )
    out.append(
        Result(
            suite="redteam",
            check="hubness/corpus-poisoning",
            metric="flagged_hubs",
            value=3,
            modality="text->image",
            details={
                "hubs": [
                    {"id": "doc-17", "k_occurrence": 48},
                    {"id": "doc-203", "k_occurrence": 41},
                    {"id": "doc-96", "k_occurrence": 37},
                ]
            },
        )
    )
    return out


def _gate(
    name: str,
    check: str,
    metric: str,
    op: str,
    thr: float,
    value: float,
    where: dict[str, Any] | None = None,
) -> GateResult:
    passed = value <= thr if op == "<=" else value >= thr
    msg = "" if passed else f"{metric} {value} is not {op} {thr}"
    evidence = (
        [] if passed else [{"check": check, "metric": metric, "value": value, **(where or {})}]
    )
    return GateResult(
        name=name,
        check=check,
        metric=metric,
        op=op,
        threshold=thr,
        value=value,
        passed=passed,
        message=msg,
        evidence=evidence,
    )


def _full_report(run_id: str, created: str, *, candidate: bool) -> Report:
    shift, loss, fpr, asr = (0.19, 0.02, 0.03, 0.41) if candidate else (0.0, 0.0, 0.03, 0.22)
    results = _bias(shift) + _retrieval(loss) + _safety(fpr) + _redteam(asr)
    weat_max = max(abs(r.value or 0) for r in results if r.metric == "effect_size")
    r10 = next(
        r.value
        for r in results
        if r.check == "emoji-professions" and r.metric == "recall@10" and r.dim == DIMS[-1]
    )
    gates = [
        _gate("weat-effect", "weat/*", "effect_size", "<=", 1.5, weat_max),
        _gate("recall10-smallest", "emoji-professions", "recall@10", ">=", 0.5, r10 or 0.0),
        _gate("benign-fpr", "benign-text", "false_positive_rate", "<=", 0.05, fpr),
        _gate(
            "asr-defended",
            "pgd-image",
            "attack_success_rate",
            "<=",
            0.3,
            asr,
            {"variant": "defended", "eps": round(EPS[-1], 6)},
        ),
    ]
    return Report(
        run_id=run_id,
        created_at=created,
        tool_version="0.1.0",
        suite="all",
        embedder=_embedder(),
        wrappers=Wrappers(
            safety={"checkers": ["text-profanity", "image-nsfw"], "action": "block"},
            projection={"kind": "FairPCA", "rank": 8, "sensitive": "gender"},
        ),
        results=results,
        gates=gates,
        status="passed" if all(g.passed for g in gates) else "failed",
    )


def _png(seed: int, noise: float) -> bytes:
    yy, xx = np.mgrid[0:96, 0:96]
    img = np.stack([xx * 2.5, yy * 2.5, np.full_like(xx, 140)], axis=-1).astype(float)
    img[30:66, 30:66] = (230, 200, 40)  # a plain square: the "object" in the photo
    img += noise * np.random.default_rng(seed).standard_normal(img.shape)
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _wav(noise: float) -> bytes:
    rate = 16_000
    t = np.arange(rate // 2) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + noise * np.random.default_rng(1).standard_normal(t.size)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def _write_artifacts(run_dir: Path) -> None:
    art = run_dir / "artifacts"
    art.mkdir(parents=True, exist_ok=True)
    (art / "pgd_before.png").write_bytes(_png(0, 0.0))
    (art / "pgd_after.png").write_bytes(_png(0, 18.0))
    (art / "clip_before.wav").write_bytes(_wav(0.0))
    (art / "clip_after.wav").write_bytes(_wav(0.02))


def write_demo_runs(runs_dir: str | Path) -> list[Path]:
    """Write four demo runs under ``runs_dir`` and return their directories.

    Baseline and candidate hold all four suites (the candidate fails one gate and
    regresses in places), a third holds only the bias suite, and a fourth has no
    report.json (a run still in progress).

    Parameters
    ----------
    runs_dir : str or Path
        The runs directory to fill (created if missing).

    Returns
    -------
    list of Path
        The run directories, in the order above.
    """
    root = Path(runs_dir)
    dirs = []
    for run_id, created, candidate in (
        (BASELINE_ID, "2026-03-01T09:00:00+00:00", False),
        (CANDIDATE_ID, "2026-03-02T09:00:00+00:00", True),
    ):
        report = _full_report(run_id, created, candidate=candidate)
        report.save(root / run_id / "report.json")
        _write_artifacts(root / run_id)
        dirs.append(root / run_id)
    partial = Report(
        run_id=PARTIAL_ID,
        created_at="2026-03-03T09:00:00+00:00",
        tool_version="0.1.0",
        suite="bias",
        embedder=_embedder(),
        results=[r for r in _bias(0.0) if r.variant == "raw"],
    )
    partial.save(root / PARTIAL_ID / "report.json")
    dirs.append(root / PARTIAL_ID)
    (root / RUNNING_ID).mkdir(parents=True, exist_ok=True)
    dirs.append(root / RUNNING_ID)
    return dirs
