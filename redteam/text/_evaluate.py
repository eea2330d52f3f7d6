"""Run a text attack against any embed function and summarise it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics import AttackReport, edit_distances, evaluate_attack
from redteam.text._base import TextAttack

#: Any text embedder: a list of strings -> (n, dim) array (rows need not be normalised).
TextEmbedFn = Callable[[list[str]], np.ndarray]


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
) -> AttackReport:
    """Perturb ``queries``, embed clean and attacked texts, and rank ``gallery``.

    With a ``defense`` (e.g. :class:`redteam.defenses.UnicodeSanitizer`) both the clean and
    the attacked queries pass through it before embedding, as they would in a deployment;
    the report's ``recall_clean`` then shows the defense's cost on clean retrieval, and its
    ``success_rate`` the attack success that remains.

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

    Returns
    -------
    AttackReport
        ``perturbation`` holds ``edit`` (Levenshtein, before the defense);
        ``queries_used`` counts texts sent to ``embed``.
    """
    clean = list(queries)
    attacked = attack.perturb(clean)
    sent_clean = list(defense(clean)) if defense else clean
    sent_attacked = list(defense(attacked)) if defense else attacked
    emb_clean = np.asarray(embed(sent_clean))
    emb_attacked = np.asarray(embed(sent_attacked))
    for label, emb in (("clean", emb_clean), ("attacked", emb_attacked)):
        if emb.ndim != 2 or emb.shape[0] != len(clean):
            raise ValueError(
                f"embed returned shape {emb.shape} for {len(clean)} {label} queries; "
                "expected (n, dim)"
            )
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
        queries_used=2 * len(clean),
    )
