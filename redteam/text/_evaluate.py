"""Run a text attack against any embed function and summarise it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics import AttackReport, edit_distances, evaluate_attack
from redteam.text._base import TextAttack

#: Any text embedder: a list of strings -> (n, dim) array (rows need not be normalised).
TextEmbedFn = Callable[[list[str]], np.ndarray]
#: Why a deployment would refuse a query text, or None when it would accept it.
RefuseFn = Callable[[str], str | None]


def refuse_empty(text: str) -> str | None:
    """The default :data:`RefuseFn`: refuse text that is empty or only whitespace.

    Deletion attacks can leave nothing of a short query (``typo-drop`` at budget 8 on
    ``"Lambdas"``); an embedding API refuses such a request rather than embed it.
    """
    return None if text.strip() else "empty text"


def evaluate_text_attack(
    embed: TextEmbedFn,
    queries: Sequence[str],
    gallery: ArrayLike,
    attack: TextAttack,
    *,
    relevant: ArrayLike | None = None,
    target: ArrayLike | None = None,
    k: int = 1,
    defense: Callable[[list[str]], list[str]] | None = None,
    refuse: RefuseFn = refuse_empty,
) -> AttackReport:
    """Perturb ``queries``, embed clean and attacked texts, and rank ``gallery``.

    With a ``defense`` (e.g. :class:`redteam.defenses.UnicodeSanitizer`) both the clean and
    the attacked queries pass through it before embedding, as they would in a deployment;
    the report's ``recall_clean`` then shows the defense's cost on clean retrieval, and its
    ``success_rate`` the attack success that remains.

    An attacked query the deployment would refuse (``refuse`` gives a reason, checked after
    the defense) is *destroyed*: it is not sent to ``embed``, and it is scored as retrieving
    nothing (see ``destroyed`` in :func:`redteam.metrics.evaluate_attack`), so a deletion
    attack that wipes a query out counts as a miss, not as a crash or a dropped row.

    Parameters
    ----------
    embed : callable
        ``list[str] -> (n, dim)`` array; black-box (a remote API works).
    queries : sequence of str
        Clean query texts.
    gallery : array-like, shape (m, dim)
        Indexed embeddings.
    attack : TextAttack
        A configured attack (budget, seed).
    relevant, target, k
        As in :func:`redteam.metrics.evaluate_attack`.
    defense : callable, optional
        ``list[str] -> list[str]`` applied to clean and attacked queries.
    refuse : callable, optional
        ``str -> reason or None``: whether the deployment would refuse a query text
        (default :func:`refuse_empty`; pass the embedder's own item check to match it).

    Returns
    -------
    AttackReport
        ``perturbation`` holds ``edit`` (Levenshtein, before the defense);
        ``queries_used`` counts texts sent to ``embed``; ``n_destroyed`` the attacked
        queries refused (``per_query["destroyed"]`` flags them).

    Raises
    ------
    ValueError
        If a clean query (after the defense) would be refused: the message names its index
        and the reason (the clean baseline must be answerable).
    """
    clean = list(queries)
    attacked = attack.perturb(clean)
    sent_clean = list(defense(clean)) if defense else clean
    sent_attacked = list(defense(attacked)) if defense else attacked
    for i, text in enumerate(sent_clean):
        why = refuse(text)
        if why is not None:
            raise ValueError(f"clean query {i} would be refused ({why}): {text[:80]!r}")
    gone = np.array([refuse(t) is not None for t in sent_attacked], dtype=bool)
    kept = [t for t, g in zip(sent_attacked, gone, strict=True) if not g]
    emb_clean = _checked(embed(sent_clean), len(clean), "clean")
    emb_kept = _checked(embed(kept), len(kept), "attacked") if kept else None
    if emb_kept is not None and emb_kept.shape[1] != emb_clean.shape[1]:
        raise ValueError(
            f"embed returned {emb_kept.shape[1]}-d attacked and {emb_clean.shape[1]}-d clean "
            "query embeddings"
        )
    emb_attacked = np.zeros_like(emb_clean)  # destroyed rows stay zero; they are ignored
    if emb_kept is not None:
        emb_attacked[~gone] = emb_kept
    params = attack.params()
    if defense is not None:
        params["defense"] = getattr(defense, "name", type(defense).__name__)
    return evaluate_attack(
        emb_clean,
        emb_attacked,
        gallery,
        relevant=relevant,
        target=target,
        k=k,
        attack=attack.name,
        params=params,
        perturbation={"edit": edit_distances(clean, attacked)},
        queries_used=len(clean) + len(kept),
        destroyed=gone,
    )


def _checked(emb: ArrayLike, n: int, label: str) -> np.ndarray:
    """``emb`` as an (n, dim) float array, or a ValueError saying what ``embed`` returned."""
    arr = np.asarray(emb, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(
            f"embed returned shape {arr.shape} for {n} {label} queries; expected (n, dim)"
        )
    return arr
