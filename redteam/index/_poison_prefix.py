"""Black-box corpus poisoning: passages that lead with the query (PoisonedRAG style).

Zou et al. (PoisonedRAG, 2024) build a poison as S + I: a retrieval part S that makes the
passage score high for the target query (in the black-box setting S is the query itself)
and the attacker's content I. Zhong et al. (EMNLP 2023) measure the share of queries that
retrieve a poison in their top-k; :func:`evaluate_poisoning` reports it together with the
effect on clean retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from redteam.metrics import cosine_scores, ranks_of, topk_indices

#: A small English stop-word list for keyword extraction.
STOPWORDS: frozenset[str] = frozenset(
    "a an and are as at be by for from has have how i in is it its of on or that the this "
    "to was what when where which who why will with do does did can you your my me we our "
    "they their there these those than then so if not no".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def query_keywords(query: str, n: int = 5, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The first ``n`` distinct non-stop-words of ``query``, lower-cased, in order."""
    out: list[str] = []
    for w in _WORD.findall(query.lower()):
        if w not in stopwords and w not in out:
            out.append(w)
        if len(out) == n:
            break
    return out


def prefix_poison(
    queries: Sequence[str],
    malicious: str | Sequence[str],
    *,
    mode: Literal["query", "keywords"] = "query",
    n_keywords: int = 5,
    separator: str = " ",
) -> list[str]:
    """One poison passage per query: retrieval prefix + malicious content.

    Parameters
    ----------
    queries : sequence of str
        Target queries.
    malicious : str or sequence of str
        Attacker content, one for all or one per query.
    mode : {"query", "keywords"}
        Prefix with the whole query (PoisonedRAG black-box) or its keywords (covers
        paraphrases of the query better, at lower similarity).
    n_keywords : int
        Keywords kept in ``"keywords"`` mode.
    separator : str
        Joins prefix and content.

    Returns
    -------
    list of str
    """
    if isinstance(queries, str):
        raise TypeError("queries must be a list of str, not one str")
    bodies = [malicious] * len(queries) if isinstance(malicious, str) else list(malicious)
    if len(bodies) != len(queries):
        raise ValueError(f"{len(queries)} queries but {len(bodies)} malicious passages")
    if mode not in ("query", "keywords"):
        raise ValueError(f"mode must be 'query' or 'keywords', got {mode!r}")
    out = []
    for i, (q, body) in enumerate(zip(queries, bodies, strict=True)):
        if not isinstance(q, str) or not isinstance(body, str):
            raise TypeError(f"query/malicious {i} must be str")
        prefix = q if mode == "query" else " ".join(query_keywords(q, n_keywords))
        out.append(f"{prefix}{separator}{body}")
    return out


@dataclass(frozen=True)
class PoisonReport:
    """Effect of injected passages on retrieval.

    Attributes
    ----------
    k : int
        Cut-off.
    n_queries, n_poison : int
        Queries evaluated and poisons injected.
    hit_rate : float
        Share of queries with at least one poison in their top-k.
    recall_clean, recall_poisoned : float or None
        Recall@k of the relevant corpus item without and with the poisons (None without
        ``relevant``); the drop is the damage to clean retrieval.
    per_query_hits : list of int
        Poisons in each query's top-k.
    """

    k: int
    n_queries: int
    n_poison: int
    hit_rate: float
    recall_clean: float | None
    recall_poisoned: float | None
    per_query_hits: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def evaluate_poisoning(
    queries: ArrayLike,
    corpus: ArrayLike,
    poisons: ArrayLike,
    *,
    k: int = 5,
    relevant: ArrayLike | None = None,
) -> PoisonReport:
    """Rank ``corpus`` plus appended ``poisons`` for each query (embeddings throughout).

    Poisons are appended after the corpus, so a score tie goes to the clean item.
    """
    corpus = np.asarray(corpus, dtype=np.float64)
    poisons = np.asarray(poisons, dtype=np.float64).reshape(-1, corpus.shape[1])
    full = np.vstack([corpus, poisons])
    scores = cosine_scores(queries, full)
    top = topk_indices(scores, k)
    hits = (top >= len(corpus)).sum(axis=1)
    r_clean = r_poisoned = None
    if relevant is not None:
        rel = np.asarray(relevant, dtype=np.int64)
        r_clean = float(np.mean(ranks_of(cosine_scores(queries, corpus), rel) < k))
        r_poisoned = float(np.mean(ranks_of(scores, rel) < k))
    return PoisonReport(
        k=k,
        n_queries=int(scores.shape[0]),
        n_poison=len(poisons),
        hit_rate=float(np.mean(hits > 0)),
        recall_clean=r_clean,
        recall_poisoned=r_poisoned,
        per_query_hits=hits.astype(int).tolist(),
    )
