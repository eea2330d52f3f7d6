"""Text families: black-box query attacks at several budgets, and prefix corpus poisoning.

Both run through ``embed()`` only, so they work on any embedder, a remote API included.
The defense is Unicode sanitisation, applied as a deployment would: to every query (clean
and attacked) and, for poisoning, to every indexed passage as well.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

from audit.items import text_item
from audit.report import Result
from audit.suites._redteam._adapters import Env, retrieval_task, text_embed_fn, text_refusal
from audit.suites._redteam._options import RedteamOptions
from audit.suites._redteam._results import attack_results, clean_cost, result, skipped
from redteam.defenses import UnicodeSanitizer
from redteam.index import evaluate_poisoning, prefix_poison
from redteam.text import evaluate_text_attack, text_attacks

log = logging.getLogger(__name__)

SANITIZE = "unicode-sanitize"


def text_query_attacks(env: Env, opts: RedteamOptions) -> Iterator[Result]:
    """Every text attack at every budget, undefended and behind the sanitiser."""
    if "text" not in env.embedder.modalities:
        for name in opts.text_attacks:
            yield skipped(f"text/{name}", f"{env.embedder.name} does not embed text")
        return
    ds = env.text_data()
    task = retrieval_task(ds, "text", env.rng("redteam/text/sample"), opts.text_queries, 0)
    embed = text_embed_fn(env.embedder)
    refuse = text_refusal(env.embedder)
    gallery = env.embedder.embed(task.gallery, purpose="index")
    queries = [str(q.content) for q in task.queries]
    sanitizer = UnicodeSanitizer()
    k = min(opts.k, len(task.gallery))
    base = {"dataset": task.dataset, "gallery_size": len(task.gallery)}
    costs: tuple[float | None, float | None] | None = None
    for name in opts.text_attacks:
        seed = env.seed(f"redteam/text/{name}")
        for budget in opts.text_budgets:
            attack = text_attacks.get(name)(budget=budget, seed=seed)
            raw, dfd = (
                evaluate_text_attack(
                    embed,
                    queries,
                    gallery,
                    attack,
                    relevant=task.relevant,
                    k=k,
                    defense=defense,
                    refuse=refuse,
                )
                for defense in (None, sanitizer)
            )
            example = _example(attack.perturb(queries[:1])[0], queries[0])
            extra = base | {"budget": budget, "seed": seed, "edit_unit": attack.edit_unit}
            yield from attack_results(
                f"text/{name}",
                raw,
                modality=task.modality,
                queries=True,
                destroyed=True,
                example=example,
                **extra,
            )
            yield from attack_results(
                f"text/{name}",
                dfd,
                modality=task.modality,
                defense=SANITIZE,
                queries=True,
                destroyed=True,
                **extra,
            )
            costs = costs or (raw.recall_clean, dfd.recall_clean)
    if costs is not None:
        yield clean_cost(SANITIZE, *costs, k=k, modality=task.modality, n=len(queries), **base)


def _example(attacked: str, clean: str) -> dict[str, str]:
    """A clean/attacked pair; invisible code points are shown as ``<U+200B>``."""

    def show(s: str) -> str:
        return "".join(c if c.isprintable() and c != "\u00a0" else f"<U+{ord(c):04X}>" for c in s)

    return {"clean": clean[:160], "attacked": show(attacked)[:240]}


def prefix_poisoning(env: Env, opts: RedteamOptions) -> Iterator[Result]:
    """PoisonedRAG-style passages (query or keywords + malicious text) injected in the index.

    ``attack_success_rate`` is the share of queries with a poison in their top-k;
    ``recall@k_poisoned`` the relevant passage's Recall@k with the poisons present.
    """
    if "text" not in env.embedder.modalities:
        for mode in opts.poison_modes:
            yield skipped(_poison_check(mode), f"{env.embedder.name} does not embed text")
        return
    ds = env.text_data()
    task = retrieval_task(ds, "text", env.rng("redteam/poison/sample"), opts.poison_queries, 0)
    if not task.modality.endswith("->text"):
        for mode in opts.poison_modes:
            yield skipped(_poison_check(mode), f"{ds.name} is not a text corpus")
        return
    queries = [str(q.content) for q in task.queries]
    corpus = [str(it.content) for it in task.gallery]
    k = min(opts.poison_k, len(corpus))
    sanitizer = UnicodeSanitizer()
    recalls: dict[str, float | None] = {}
    for mode in opts.poison_modes:
        poisons = prefix_poison(queries, opts.malicious, mode=mode)  # type: ignore[arg-type]
        for defense in (None, SANITIZE):
            clean_fn = sanitizer if defense else (lambda texts: list(texts))
            q = _embed(env, clean_fn(queries), "query", "redteam-pq")
            c = _embed(env, clean_fn(corpus), "index", "redteam-pc")
            p = _embed(env, clean_fn(poisons), "index", "redteam-pp")
            rep = evaluate_poisoning(q, c, p, k=k, relevant=task.relevant)
            recalls[defense or "none"] = rep.recall_clean
            common = {
                "mode": mode,
                "k": k,
                "defense": defense,
                "budget": 1,
                "poisons_per_query": 1,
                "n_poison": rep.n_poison,
                "recall_clean": rep.recall_clean,
                "dataset": task.dataset,
                "corpus_size": len(corpus),
                "example": poisons[0][:240],
            }
            variant = "defended" if defense else "raw"
            check = _poison_check(mode)
            yield result(
                check,
                "attack_success_rate",
                rep.hit_rate,
                modality=task.modality,
                n=rep.n_queries,
                variant=variant,
                **common,
            )
            yield result(
                check,
                f"recall@{k}_poisoned",
                rep.recall_poisoned,
                modality=task.modality,
                n=rep.n_queries,
                variant=variant,
                **common,
            )
    if recalls:
        yield clean_cost(
            f"{SANITIZE}-index",
            recalls.get("none"),
            recalls.get(SANITIZE),
            k=k,
            modality=task.modality,
            n=len(queries),
            dataset=task.dataset,
            note="sanitising every indexed passage and every query",
        )


def _poison_check(mode: str) -> str:
    return "index/poison-prefix" if mode == "query" else f"index/poison-{mode}"


def _embed(env: Env, texts: list[str], purpose: str, prefix: str) -> np.ndarray:
    items = [text_item(f"{prefix}-{i}", t) for i, t in enumerate(texts)]
    return env.embedder.embed(items, purpose=purpose)  # type: ignore[arg-type]
