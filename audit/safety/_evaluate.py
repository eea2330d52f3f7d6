"""Measurements of a safety filter, as report results (the safety suite's building blocks).

Positive = not allowed (blocked or flagged). Rates carry Wilson 95 % intervals.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.embedders.base import Embedder
from audit.items import Item, text_item
from audit.report import Result
from audit.safety._concept import ConceptChecker
from audit.safety._decision import Verdict
from audit.safety._evalsets import (
    IMAGE_TRANSFORMS,
    PROFANE_TERMS,
    TEMPLATES,
    image_item,
    obfuscated,
)
from audit.safety._filter import SafetyFilter
from audit.safety._hashlist import HashList
from audit.safety._image import HashListChecker
from audit.safety._metrics import Rate, confusion, wilson
from audit.safety._obfuscate import OBFUSCATIONS
from audit.safety._policy import policy_from_dict
from audit.safety._text import ListEntry, TermListChecker

SUITE = "safety"


def flagged(verdict: Verdict) -> bool:
    """Positive prediction: the filter did not simply allow the item."""
    return verdict.action != "allow"


def _rate(check: str, metric: str, rate: Rate, **kw: Any) -> Result:
    details = {"k": rate.k, **kw.pop("details", {})}
    return Result(
        suite=SUITE,
        check=check,
        metric=metric,
        value=rate.value,
        ci_low=rate.ci_low,
        ci_high=rate.ci_high,
        n=rate.n,
        details=details,
        **kw,
    )


def _breakdown(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    cats: Counter[str] = Counter()
    checkers: Counter[str] = Counter()
    for v in verdicts:
        for d in v.decisions:
            if not d.allowed:
                cats[d.category or ""] += 1
                checkers[d.checker] += 1
    return {
        "actions": dict(Counter(v.action for v in verdicts)),
        "categories": dict(cats),
        "checkers": dict(checkers),
        "checker_errors": sum(any(d.error for d in v.decisions) for v in verdicts),
    }


def labelled(
    safety: SafetyFilter,
    items: Sequence[Item],
    labels: Sequence[bool],
    *,
    check: str,
    modality: str | None,
    source: str,
) -> list[Result]:
    """Precision, recall, F1 and false-positive rate on items labelled unsafe/benign."""
    verdicts = safety.screen(items)
    c = confusion(labels, [flagged(v) for v in verdicts])
    base = {"modality": modality, "variant": "filter"}
    info = {"source": source, **c.as_dict(), **_breakdown(verdicts)}
    per_checker = {}
    positives = [v for v, y in zip(verdicts, labels, strict=True) if y]
    for name in {d.checker for v in verdicts for d in v.decisions}:
        hit = sum(any(d.checker == name and not d.allowed for d in v.decisions) for v in positives)
        per_checker[name] = hit / len(positives) if positives else None
    info["recall_by_checker"] = per_checker
    block = wilson(sum(v.blocked for v in verdicts), len(verdicts))
    return [
        _rate(check, "recall", c.recall, **base, details=info),
        Result(
            suite=SUITE,
            check=check,
            metric="precision",
            value=c.precision,
            n=c.tp + c.fp,
            details=info,
            **base,
        ),
        Result(
            suite=SUITE, check=check, metric="f1", value=c.f1, n=len(items), details=info, **base
        ),
        _rate(check, "false_positive_rate", c.fpr, **base, details=info),
        _rate(check, "block_rate", block, **base, details=info),
    ]


def benign(
    safety: SafetyFilter,
    items: Sequence[Item],
    *,
    check: str,
    modality: str | None,
    group_attributes: Sequence[str] = (),
    source: str,
) -> list[Result]:
    """False-positive, block and flag rates on benign items, overall and per group."""
    verdicts = safety.screen(items)
    info = {"source": source, **_breakdown(verdicts)}
    base = {"modality": modality, "variant": "filter"}
    out = [
        _rate(
            check,
            "false_positive_rate",
            wilson(sum(map(flagged, verdicts)), len(items)),
            **base,
            details=info,
        ),
        _rate(
            check,
            "block_rate",
            wilson(sum(v.blocked for v in verdicts), len(items)),
            **base,
            details=info,
        ),
        _rate(
            check,
            "flag_rate",
            wilson(sum(v.action == "flag" for v in verdicts), len(items)),
            **base,
            details=info,
        ),
    ]
    for attr in group_attributes:
        out += _groups(check, attr, items, verdicts, base)
    return out


def _groups(
    check: str, attr: str, items: Sequence[Item], verdicts: Sequence[Verdict], base: dict
) -> list[Result]:
    from scipy.stats import chi2_contingency

    groups: dict[str, list[bool]] = {}
    cats: dict[str, Counter[str]] = {}
    for it, v in zip(items, verdicts, strict=True):
        if attr in it.attributes:
            g = str(it.attributes[attr])
            groups.setdefault(g, []).append(flagged(v))
            cats.setdefault(g, Counter()).update(c for c in v.categories if v.action != "allow")
    if len(groups) < 2:
        return []
    out = []
    rates = {}
    for g, flags in sorted(groups.items()):
        r = wilson(sum(flags), len(flags))
        rates[g] = r.value
        out.append(
            _rate(f"{check}/groups/{attr}", "false_positive_rate", r, group=f"{attr}={g}", **base)
        )
    table = np.array([[sum(f), len(f) - sum(f)] for f in groups.values()])
    p_value = None
    if table[:, 0].sum() > 0 and table[:, 1].sum() > 0:
        p_value = float(chi2_contingency(table)[1])  # independence of group and flag
    values = [v for v in rates.values() if v is not None]
    out.append(
        Result(
            suite=SUITE,
            check=f"{check}/groups/{attr}",
            metric="fpr_gap",
            value=max(values) - min(values),
            p_value=p_value,
            n=int(table.sum()),
            details={
                "rates": rates,
                "worst_group": max(rates, key=lambda g: rates[g] or 0.0),
                "categories_by_group": {g: dict(c) for g, c in sorted(cats.items())},
                "test": "chi-square test of independence (approximate for small counts)",
            },
            **base,
        )
    )
    return out


def text_evasion(
    variants: Mapping[str, SafetyFilter],
    *,
    templates: Sequence[str] = TEMPLATES,
    terms: Sequence[str] = PROFANE_TERMS,
) -> list[Result]:
    """Recall on templated offensive text under each obfuscation, for each filter variant
    (e.g. the policy's filter with and without Unicode hardening)."""
    out = []
    for name, fn in OBFUSCATIONS.items():
        items = [
            text_item(f"evade.{name}.{k}.{t}", obfuscated(tpl, t, fn))
            for k, tpl in enumerate(templates)
            for t in terms
        ]
        for variant, safety in variants.items():
            verdicts = safety.screen(items)
            r = wilson(sum(map(flagged, verdicts)), len(items))
            info = {"obfuscation": name, "source": "stand-in: mild profanity in templates"}
            out.append(
                _rate(
                    f"evasion/text/{name}",
                    "recall",
                    r,
                    modality="text",
                    variant=variant,
                    details={**info, **_breakdown(verdicts)},
                )
            )
    return out


def term_list_filter(terms: Sequence[str], *, harden: bool) -> SafetyFilter:
    """A filter holding only a term list of ``terms`` (category ``offensive-term``)."""
    entries = [ListEntry(t, "offensive-term", f"test:{i}") for i, t in enumerate(terms)]
    policy = policy_from_dict({"categories": {"offensive-term": "block"}}, source="<test>")
    return SafetyFilter([TermListChecker(entries, harden=harden)], policy)


def hash_evasion(
    photos: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    settings: Mapping[str, Any],
) -> list[Result]:
    """Hash-list matching under re-encoding, resizing, crops and mirroring.

    Half of the photos (seeded) are registered as "known bad" in a test list; recall is
    the match rate of their transformed copies, the false-match rate that of the other
    photos' transformed copies. Three list kinds: pHash with registered crop variants,
    PDQ with them, and plain PDQ (hash only, as lists shared by other parties are).
    """
    names = sorted(photos)
    listed = set(rng.choice(names, size=max(1, len(names) // 2), replace=False).tolist())
    kinds = {
        "phash+crops": ("phash", True),
        "pdq+crops": ("pdq", True),
        "pdq": ("pdq", False),
    }
    out = []
    for kind, (alg, augment) in kinds.items():
        hl = HashList.from_images(
            [photos[n] for n in sorted(listed)],
            category="known-bad-hash",
            algorithm=alg,
            refs=[f"photo{i}" for i in range(len(listed))],
            augment=augment,
            name=f"test-{kind}",
        )
        checker = HashListChecker(
            [hl], max_distance=settings.get("max_distance"), mirror=settings.get("mirror", True)
        )
        for tname, transform in IMAGE_TRANSFORMS.items():
            tr = np.random.default_rng(rng.integers(2**32))
            hits = {
                n: any(f.hit for f in checker.image_findings(transform(photos[n], tr)))
                for n in names
            }
            pos = [hits[n] for n in names if n in listed]
            neg = [hits[n] for n in names if n not in listed]
            info = {
                "list": kind,
                "transform": tname,
                "listed": len(pos),
                "controls": len(neg),
                "max_distance": checker.max_distance[alg],
                "mirror": checker.mirror,
            }
            check = f"evasion/image/{kind}/{tname}"
            out.append(
                _rate(
                    check,
                    "recall",
                    wilson(sum(pos), len(pos)),
                    modality="image",
                    variant=kind,
                    details=info,
                )
            )
            out.append(
                _rate(
                    check,
                    "false_match_rate",
                    wilson(sum(neg), len(neg)),
                    modality="image",
                    variant=kind,
                    details=info,
                )
            )
    return out


def photo_items(photos: Mapping[str, Any]) -> list[Item]:
    """The photos as PNG image items."""
    return [image_item(f"photo.{n}", im, source=n.split(".")[0]) for n, im in photos.items()]


def latency(
    safety: SafetyFilter, embedder: Embedder, items: Sequence[Item], *, modality: str
) -> list[Result]:
    """Filter time against embedding time per item (first item warms both up)."""
    if len(items) < 2:
        return []
    fresh = SafetyFilter(safety.checkers, safety.policy)  # no memo, no log: time the checks
    fresh.screen(items[:1])
    embedder.embed(list(items[:1]))
    rest = list(items[1:])
    t0 = time.perf_counter()
    fresh.screen(rest)
    t1 = time.perf_counter()
    embedder.embed(rest)
    t2 = time.perf_counter()
    f_ms, e_ms = 1000 * (t1 - t0) / len(rest), 1000 * (t2 - t1) / len(rest)
    info = {"embedder": embedder.name, "items": len(rest), "note": "wall clock, one run"}
    base = {
        "check": f"latency/{modality}",
        "modality": modality,
        "variant": "filter",
        "n": len(rest),
        "details": info,
    }
    return [
        Result(suite=SUITE, metric="filter_ms_per_item", value=f_ms, **base),
        Result(suite=SUITE, metric="embed_ms_per_item", value=e_ms, **base),
        Result(
            suite=SUITE,
            metric="overhead_ratio",
            value=(f_ms + e_ms) / e_ms if e_ms > 0 else None,
            **base,
        ),
    ]


def concept_calibration(
    checker: ConceptChecker,
    items: Sequence[Item],
    rng: np.random.Generator,
    *,
    target_fpr: float,
) -> list[Result]:
    """Check the conformal calibration out of sample: calibrate a copy on half of the
    benign items (seeded split), measure its false-positive rate on the other half."""
    order = rng.permutation(len(items))
    half = len(items) // 2
    calib = [items[i] for i in order[:half]]
    held = [items[i] for i in order[half:]]
    trial = copy.copy(checker)
    trial.thresholds = {k: dict(v) for k, v in checker.thresholds.items()}
    trial.calibrate(calib, target_fpr=target_fpr)
    sims = trial.similarities(held)
    out = []
    for m in sorted({it.modality for it in held}):
        rows = [i for i, it in enumerate(held) if it.modality == m]
        over = np.array(
            [
                [sims[i, j] >= trial.threshold(c, m) for j, c in enumerate(trial.concepts)]
                for i in rows
            ]
        )
        info = {
            "target_fpr": target_fpr,
            "calibration_items": len(calib),
            "rule": "split-conformal",
        }
        for j, cat in enumerate(trial.concepts):  # each concept: at most target_fpr expected
            out.append(
                _rate(
                    "concepts/calibration",
                    "held_out_fpr",
                    wilson(int(over[:, j].sum()), len(rows)),
                    modality=m,
                    group=f"concept={cat}",
                    variant="calibrated",
                    details=info,
                )
            )
        any_hit = wilson(int(over.any(axis=1).sum()), len(rows))
        bound = f"any of {len(trial.concepts)} concepts: at most their sum"
        out.append(
            _rate(
                "concepts/calibration",
                "held_out_fpr",
                any_hit,
                modality=m,
                variant="calibrated",
                details={**info, "bound": bound},
            )
        )
    return out
