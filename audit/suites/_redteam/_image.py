"""Image query attacks: white-box (PGD, FGSM, ...) with squeezing defenses, and Square.

The task is near-duplicate search (each query image's own indexed copy is its relevant
item; see :func:`self_task`), so every embedder has eligible queries. White-box attacks go
through ``redteam.tensor.run_query_attack`` on a :class:`RetrievalHead` over the verified
differentiable path (it keeps BatchNorm in eval mode); Square goes through ``embed()``
only, under a per-input query budget that a :class:`ScoreHead` enforces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import torch

from audit.report import Result
from audit.suites._redteam._adapters import (
    Env,
    ImageEmbedFn,
    Task,
    load_images,
    save_examples,
    self_task,
    white_box,
)
from audit.suites._redteam._options import RedteamOptions
from audit.suites._redteam._results import attack_results, clean_cost, result, skipped
from redteam.defenses import SqueezeDetector, defenses, detection_auc
from redteam.metrics import AttackReport, evaluate_attack
from redteam.tensor import RetrievalHead, ScoreHead, module_embed_fn, run_query_attack
from redteam.tensor import tensor_attacks as registry

log = logging.getLogger(__name__)

Squeeze = Callable[[np.ndarray], np.ndarray]


def squeezers(opts: RedteamOptions) -> dict[str, Squeeze]:
    """The configured squeezing defenses (registered defenses), name -> ``ndarray -> ndarray``.

    The suite's own knobs (``jpeg_quality``, ``bit_depth``) are passed to the two it has
    options for; any other registered squeezer runs with its defaults.
    """
    knobs: dict[str, dict[str, Any]] = {
        "jpeg": {"quality": opts.jpeg_quality},
        "bit-depth": {"bits": opts.bit_depth},
    }
    return {name: partial(defenses.get(name), **knobs.get(name, {})) for name in opts.squeezers}


def white_box_checks(opts: RedteamOptions) -> list[str]:
    """Check names of the white-box query attacks the options ask for."""
    out = []
    for name in opts.image_attacks:
        out.append(f"image/{name}")
        if opts.targeted and registry.get(name).targeted:
            out.append(f"image/{name}-targeted")
    return out


def _image_task(env: Env, opts: RedteamOptions, stream: str, n: int) -> Task:
    ds = env.image_data()
    return self_task(ds, "image", env.rng(stream), n, opts.gallery_size)


def _targets(env: Env, stream: str, relevant: np.ndarray, n_gallery: int) -> np.ndarray:
    """A random gallery row other than the relevant one, per query."""
    rng = env.rng(stream)
    shift = rng.integers(1, n_gallery, size=len(relevant))
    return (relevant + shift) % n_gallery


def _squeezed(
    embed: Callable[[np.ndarray], np.ndarray],
    clean: np.ndarray,
    adv: np.ndarray,
    gallery: np.ndarray,
    squeeze: Squeeze,
    name: str,
    **kw: Any,
) -> AttackReport:
    """The attack's report when every query is squeezed before embedding."""
    return evaluate_attack(embed(squeeze(clean)), embed(squeeze(adv)), gallery, attack=name, **kw)


def white_box_attacks(env: Env, opts: RedteamOptions) -> Iterator[Result]:
    """PGD/FGSM-style query attacks per eps, raw and squeezed, with the detector's AUC."""
    checks = white_box_checks(opts)
    if "image" not in env.embedder.modalities:
        for check in checks:
            yield skipped(check, f"{env.embedder.name} does not embed images")
        return
    task = _image_task(env, opts, "redteam/image/sample", opts.image_queries)
    x = load_images(task.queries)
    embed_fn = ImageEmbedFn(env.embedder)
    wb = white_box(env.embedder, x, embed_fn, opts.consistency_min_cosine)
    if wb.module is None:
        for check in checks:
            yield skipped(check, wb.reason, modality=task.modality, min_cosine=wb.min_cosine)
        return
    gallery = env.embedder.embed(task.gallery, purpose="index")
    head = RetrievalHead(wb.module, gallery)
    embed = module_embed_fn(wb.module)
    k = min(opts.k, len(task.gallery))
    squeeze = squeezers(opts)
    detector = SqueezeDetector(embed, squeezers=list(squeeze.values())) if squeeze else None
    clean_scores = detector.scores(x) if detector else None
    ids = [q.id for q in task.queries]
    base = {
        "dataset": task.dataset,
        "gallery_size": len(task.gallery),
        "task": "near-duplicate search (own indexed copy is relevant)",
        "steps": opts.pgd_steps,
        "path_min_cosine": wb.min_cosine,
        "projected_path": wb.projected,
    }
    clean_np = x.numpy()
    clean_sent = embed_fn(clean_np)  # what embed() gives the clean queries (cached)
    costs: dict[str, tuple[float | None, float | None]] = {}
    top = max(opts.eps_255)
    for name in opts.image_attacks:
        spec = registry.get(name)
        runs = [(e, False) for e in opts.eps_255]
        if opts.targeted and spec.targeted:
            runs.append((top, True))
        for eps_255, targeted in runs:
            check = f"image/{name}" + ("-targeted" if targeted else "")
            seed = env.seed(f"redteam/{check}/{eps_255:g}")
            labels = _targets(env, f"{check}/targets", task.relevant, len(gallery))
            labels = labels if targeted else task.relevant
            res = run_query_attack(
                head,
                x,
                labels,
                attack=name,
                targeted=targeted,
                relevant=task.relevant,
                k=k,
                eps=eps_255 / 255,
                steps=opts.pgd_steps,
                seed=seed,
            )
            adv = res.adversarial
            extra = base | {"eps": eps_255 / 255, "eps_255": eps_255, "seed": seed}
            if eps_255 == top and opts.artifacts_per_attack:
                slug = check.replace("/", "-")
                extra["artifacts"] = save_examples(
                    env, f"{slug}-eps{eps_255:g}", ids, x, adv, opts.artifacts_per_attack
                )
            kw = {"relevant": task.relevant, "k": k}
            kw |= {"target": labels} if targeted else {}
            replay = _png_replay(embed_fn, clean_sent, adv, gallery, **kw)
            yield from attack_results(
                check,
                res.report,
                modality=task.modality,
                success_rate_png_replay=replay,
                **extra,
            )
            extra.pop("artifacts", None)
            for sq_name, fn in squeeze.items():
                rep = _squeezed(embed, clean_np, adv.numpy(), gallery, fn, name, **kw)
                costs.setdefault(sq_name, (res.report.recall_clean, rep.recall_clean))
                yield from attack_results(
                    check, rep, modality=task.modality, defense=sq_name, **extra
                )
            if detector is not None and clean_scores is not None:
                auc = detection_auc(clean_scores, detector.scores(adv))
                yield result(
                    check,
                    "detector_auc",
                    auc,
                    modality=task.modality,
                    n=len(ids),
                    variant="defended",
                    defense="squeeze-detector",
                    squeezers=list(squeeze),
                    **extra,
                )
    for sq_name, (without, with_) in costs.items():
        yield clean_cost(
            sq_name, without, with_, k=k, modality=task.modality, n=len(ids), dataset=task.dataset
        )


def _png_replay(
    embed_fn: ImageEmbedFn, clean: np.ndarray, adv: torch.Tensor, gallery: np.ndarray, **kw: Any
) -> float | None:
    """Success rate when the adversarial queries reach ``embed()`` as 8-bit PNG files."""
    rate = evaluate_attack(clean, embed_fn(adv.numpy()), gallery, **kw).success_rate
    return None if np.isnan(rate) else rate


def square_attacks(env: Env, opts: RedteamOptions) -> Iterator[Result]:
    """Square (score-based) through ``embed()`` only, one run per query budget."""
    checks = ["image/square"] + (["image/square-targeted"] if opts.square_targeted else [])
    if "image" not in env.embedder.modalities:
        for check in checks:
            yield skipped(check, f"{env.embedder.name} does not embed images")
        return
    task = _image_task(env, opts, "redteam/square/sample", opts.square_queries)
    x = load_images(task.queries)
    counter = ImageEmbedFn(env.embedder)
    gallery = env.embedder.embed(task.gallery, purpose="index")
    k = min(opts.k, len(task.gallery))
    eps = opts.square_eps_255 / 255
    ids = [q.id for q in task.queries]
    squeeze = squeezers(opts)
    top = max(opts.square_budgets)
    runs = [(b, False) for b in opts.square_budgets]
    runs += [(top, True)] if opts.square_targeted else []
    for budget, targeted in runs:
        check = "image/square" + ("-targeted" if targeted else "")
        seed = env.seed(f"redteam/{check}/{budget}")
        labels = _targets(env, f"{check}/targets", task.relevant, len(gallery))
        labels = labels if targeted else task.relevant
        rows_before = counter.rows
        head = ScoreHead(counter, gallery, max_queries=budget * len(ids))
        res = run_query_attack(
            head,
            x,
            labels,
            attack="square",
            targeted=targeted,
            relevant=task.relevant,
            k=k,
            eps=eps,
            query_budget=budget,
            seed=seed,
        )
        extra: dict[str, Any] = {
            "dataset": task.dataset,
            "gallery_size": len(task.gallery),
            "budget": budget,
            "query_budget": budget,
            "eps": eps,
            "eps_255": opts.square_eps_255,
            "seed": seed,
            "max_queries": budget * len(ids),
            "rows_embedded": counter.rows - rows_before,
            "black_box": "embed() only",
        }
        if budget == top and opts.artifacts_per_attack:
            extra["artifacts"] = save_examples(
                env,
                f"{check.replace('/', '-')}-q{budget}",
                ids,
                x,
                res.adversarial,
                opts.artifacts_per_attack,
            )
        yield from attack_results(check, res.report, modality=task.modality, queries=True, **extra)
        extra.pop("artifacts", None)
        kw = {"relevant": task.relevant, "k": k} | ({"target": labels} if targeted else {})
        for sq_name, fn in squeeze.items():
            rep = _squeezed(
                counter, x.numpy(), res.adversarial.numpy(), gallery, fn, "square", **kw
            )
            yield from attack_results(check, rep, modality=task.modality, defense=sq_name, **extra)
