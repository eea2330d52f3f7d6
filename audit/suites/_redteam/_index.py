"""Indexed-data attacks on images: targeted hijack and adversarial hub, with defenses.

Both perturb indexed images through the verified differentiable path
(``redteam.index``), against text queries of the image dataset (``text->image``). Defenses:
squeezing the item at ingestion (hijack), CSLS / mutual-proximity re-ranking fitted on a
log of probe queries, and the hubness detector (k-occurrence robust z-scores) on the index.

Queries are split three ways so no number is measured on the data it was fitted on: the
attacker's training queries (the hub's centroid), the defender's probe log (hubness
detection, re-ranker statistics) and held-out queries (ASR@k and clean-recall cost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from audit.report import Result
from audit.suites._redteam._adapters import (
    Env,
    ImageEmbedFn,
    load_images,
    retrieval_task,
    save_pair,
    white_box,
)
from audit.suites._redteam._image import squeezers
from audit.suites._redteam._options import RedteamOptions
from audit.suites._redteam._results import ASR, clean_cost, result, skipped
from redteam.defenses import defenses, detect_hubs
from redteam.index import adversarial_hub, hijack
from redteam.metrics import ranks_of, topk_indices, unit_rows
from redteam.tensor import module_embed_fn

log = logging.getLogger(__name__)


def _rank_with(scores: np.ndarray, row: int) -> int:
    """0-based rank of gallery ``row`` in one query's score row (ties: lower index first)."""
    return int(ranks_of(scores[None, :], [row])[0])


def index_attacks(env: Env, opts: RedteamOptions) -> Iterator[Result]:
    """Hijack and hub on the image dataset's index (skipped without a white-box path)."""
    checks = ["index/hijack", "index/hub"]
    if not {"image", "text"} <= env.embedder.modalities:
        for check in checks:
            yield skipped(check, f"{env.embedder.name} does not embed both text and images")
        return
    ds = env.image_data()
    task = retrieval_task(ds, "text", env.rng("redteam/index/sample"), None, opts.gallery_size)
    if not task.modality.endswith("->image"):
        for check in checks:
            yield skipped(check, f"{ds.name} has no text->image qrels", modality=task.modality)
        return
    rng = env.rng("redteam/index/items")
    rows = np.sort(
        rng.choice(len(task.gallery), size=min(opts.hijack_items, len(task.gallery)), replace=False)
    )
    x = load_images([task.gallery[int(r)] for r in rows])
    wb = white_box(
        env.embedder, x, ImageEmbedFn(env.embedder, purpose="index"), opts.consistency_min_cosine
    )
    if wb.module is None:
        for check in checks:
            yield skipped(check, wb.reason, modality=task.modality, min_cosine=wb.min_cosine)
        return
    q = env.embedder.embed(task.queries, purpose="query")
    g = env.embedder.embed(task.gallery, purpose="index")
    yield from _hijack(env, opts, task, wb.module, x, rows, q, g)
    yield from _hub(env, opts, task, wb.module, q, g)


def _hijack(
    env: Env,
    opts: RedteamOptions,
    task: Any,
    module: Any,
    x: Any,
    rows: np.ndarray,
    q: np.ndarray,
    g: np.ndarray,
) -> Iterator[Result]:
    """Each picked item is pushed toward a random query it is not relevant to."""
    rng = env.rng("redteam/index/hijack-targets")
    targets = np.array(
        [rng.choice(np.flatnonzero(task.relevant != r)) for r in rows], dtype=np.int64
    )
    eps = opts.hijack_eps_255 / 255
    seed = env.seed("redteam/index/hijack")
    res = hijack(
        module, x, q[targets], g, item_index=rows, eps=eps, steps=opts.hijack_steps, seed=seed
    )
    base = {
        "dataset": task.dataset,
        "gallery_size": len(task.gallery),
        "eps": eps,
        "eps_255": opts.hijack_eps_255,
        "steps": opts.hijack_steps,
        "seed": seed,
        "k": 1,
        "items": [task.gallery[int(r)].id for r in rows],
        "target_queries": [task.queries[int(t)].id for t in targets],
    }
    details = base | {
        "defense": None,
        "rank_before": res.rank_before.tolist(),
        "rank_after": res.rank_after.tolist(),
        "cosine_before": res.cosine_before.tolist(),
        "cosine_after": res.cosine_after.tolist(),
        "linf_max": float(res.perturbation["linf"].max()),
        "n_eligible": int(np.sum(res.rank_before > 0)),
    }
    if opts.artifacts_per_attack:
        details["artifacts"] = save_pair(env, "index-hijack-0", x[0], res.adversarial[0])
    yield result(
        "index/hijack",
        "attack_success_rate",
        res.success_rate,
        modality=task.modality,
        n=len(rows),
        **details,
    )
    yield result(
        "index/hijack",
        "rank_after_mean",
        float(res.rank_after.mean()),
        modality=task.modality,
        n=len(rows),
        **details,
    )
    adv_emb = unit_rows(module_embed_fn(module)(res.adversarial.numpy()))
    embed = module_embed_fn(module)
    defended: dict[str, list[int]] = {}
    for name, fn in squeezers(opts).items():  # the indexer re-encodes items at ingestion
        e = unit_rows(embed(fn(res.adversarial.numpy())))
        pairs = enumerate(zip(rows, targets, strict=True))
        defended[name] = [_rank_in(g, int(r), e[i], q[t]) for i, (r, t) in pairs]
    for name in opts.rerankers:
        ranks = []
        for i, (r, t) in enumerate(zip(rows, targets, strict=True)):
            index = g.copy()
            index[r] = adv_emb[i]
            scores = (
                defenses.get(name)(k=min(opts.hubness_k, len(g))).fit(index, q).scores(q[t : t + 1])
            )
            ranks.append(_rank_with(scores[0], int(r)))
        defended[name] = ranks
    for name, ranks in defended.items():
        r_after = np.asarray(ranks)
        yield result(
            "index/hijack",
            "attack_success_rate",
            float(np.mean(r_after == 0)),
            modality=task.modality,
            n=len(rows),
            variant="defended",
            **(base | {"defense": name, "rank_after": r_after.tolist()}),
        )


def _rank_in(g: np.ndarray, row: int, item: np.ndarray, query: np.ndarray) -> int:
    index = g.copy()
    index[row] = item
    return _rank_with(unit_rows(query[None, :])[0] @ unit_rows(index).T, int(row))


def _hub(
    env: Env, opts: RedteamOptions, task: Any, module: Any, q: np.ndarray, g: np.ndarray
) -> Iterator[Result]:
    """One item optimised toward the training queries' centroid; ASR@k on held-out ones."""
    n = len(q)
    perm = env.rng("redteam/index/hub-split").permutation(n)
    train, probe, held = perm[: n // 3], perm[n // 3 : 2 * n // 3], perm[2 * n // 3 :]
    ks = [k for k in opts.hub_k if k <= len(g)]
    hk = min(opts.hubness_k, len(g))
    if len(train) < 1 or len(probe) < hk or len(held) < 1 or not ks:
        yield skipped(
            "index/hub",
            f"{n} queries / {len(g)} items are too few to split",
            modality=task.modality,
        )
        return
    seed_row = int(env.rng("redteam/index/hub-seed").integers(len(task.gallery)))
    x = load_images([task.gallery[seed_row]])
    eps = opts.hub_eps_255 / 255
    seed = env.seed("redteam/index/hub")
    hub = adversarial_hub(
        module, x, q[train], q[held], g, ks=ks, eps=eps, steps=opts.hub_steps, seed=seed
    )
    base = {
        "dataset": task.dataset,
        "gallery_size": len(g),
        "eps": eps,
        "eps_255": opts.hub_eps_255,
        "steps": opts.hub_steps,
        "seed": seed,
        "seed_item": task.gallery[seed_row].id,
        "queries": {"train": len(train), "probe": len(probe), "heldout": len(held)},
    }
    top = max(ks)
    raw = base | {
        "defense": None,
        "k": top,
        "clean_hit_rate": hub.clean_hit_rate,
        "asr_at": hub.hit_rate,
        "perturbation": hub.perturbation,
    }
    if opts.artifacts_per_attack:
        raw["artifacts"] = save_pair(env, "index-hub", x[0], hub.adversarial[0])
    yield result(
        "index/hub",
        "attack_success_rate",
        hub.hit_rate[top],
        modality=task.modality,
        n=len(held),
        **raw,
    )
    for k in ks:
        yield result(
            "index/hub",
            f"asr@{k}",
            hub.hit_rate[k],
            modality=task.modality,
            n=len(held),
            **(raw | {"k": k}),
        )
    index = np.vstack([g, hub.embedding[None, :]])
    hub_row = len(g)
    det = detect_hubs(index, q[probe], k=hk, threshold=opts.hubness_threshold)
    det_clean = detect_hubs(g, q[probe], k=hk, threshold=opts.hubness_threshold)
    flagged = [int(i) for i in det.flagged]
    hubs = [
        {
            "item": task.gallery[i].id if i < hub_row else "planted hub",
            "k_occurrence": int(det.k_occurrence[i]),
            "robust_z": float(det.robust_z[i]),
            "planted": i == hub_row,
        }
        for i in flagged
    ]
    detection = base | {
        "defense": "hubness",
        "k": hk,
        "threshold": opts.hubness_threshold,
        "hub_robust_z": float(det.robust_z[hub_row]),
        "hub_k_occurrence": int(det.k_occurrence[hub_row]),
        "false_positives": len([i for i in flagged if i != hub_row]),
        "flagged_on_clean_index": len(det_clean.flagged),
        "skewness": det.skewness,
        "hubs": hubs,
    }
    yield result(
        "index/hub",
        "hub_flagged",
        float(hub_row in flagged),
        modality=task.modality,
        n=len(probe),
        variant="defended",
        **detection,
    )
    # Defense "hubness": flagged items are dropped from the index before serving.
    keep = np.setdiff1d(np.arange(len(index)), flagged)
    asr = 0.0
    if hub_row in keep:
        hub_pos = int(np.searchsorted(keep, hub_row))
        top_served = topk_indices(q[held] @ index[keep].T, min(top, len(keep)))
        asr = float(np.mean((top_served == hub_pos).any(axis=1)))
    defended = {"modality": task.modality, "n": len(held), "variant": "defended"}
    yield result("index/hub", ASR, asr, **defended, **(base | {"defense": "hubness", "k": top}))
    rel = task.relevant[held]
    cos_recall = float(np.mean(ranks_of(q[held] @ g.T, rel) < top))
    keep_clean = np.setdiff1d(np.arange(len(g)), det_clean.flagged)
    dropped = _recall_after_drop(q[held], g, rel, keep_clean, top)
    yield clean_cost(
        "hubness",
        cos_recall,
        dropped,
        k=top,
        modality=task.modality,
        n=len(held),
        dataset=task.dataset,
        note="flagged items dropped from the clean index",
    )
    for name in opts.rerankers:
        scores = defenses.get(name)(k=hk).fit(index, q[probe]).scores(q[held])
        asr = float(np.mean((topk_indices(scores, top) == hub_row).any(axis=1)))
        yield result("index/hub", ASR, asr, **defended, **(base | {"defense": name, "k": top}))
        clean_scores = defenses.get(name)(k=hk).fit(g, q[probe]).scores(q[held])
        rr = float(np.mean(ranks_of(clean_scores, rel) < top))
        yield clean_cost(
            name, cos_recall, rr, k=top, modality=task.modality, n=len(held), dataset=task.dataset
        )


def _recall_after_drop(
    q: np.ndarray, g: np.ndarray, rel: np.ndarray, keep: np.ndarray, k: int
) -> float:
    """Recall@k when only ``keep`` rows are served (a dropped relevant item is a miss)."""
    hits = []
    sub = g[keep]
    pos = {int(r): i for i, r in enumerate(keep)}
    for qi, r in zip(q, rel, strict=True):
        if int(r) not in pos:
            hits.append(False)
            continue
        hits.append(_rank_with(qi @ sub.T, pos[int(r)]) < k)
    return float(np.mean(hits))
