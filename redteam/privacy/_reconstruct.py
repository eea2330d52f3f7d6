"""Black-box iterative reconstruction of a text from its embedding, under a query budget.

Threat model: the attacker holds one leaked vector and can call the same ``embed`` API
(any backend, a paid one included) a bounded number of times. Following the idea of
vec2text (Morris et al., "Text Embeddings Reveal (Almost) As Much As Text", EMNLP 2023:
correct a hypothesis step by step towards the target embedding) but with no trained
corrector and no gradients: start from a guess (the bag-of-words inverter's words), try
random single-token edits -- insert, replace, delete, swap -- drawn from a vocabulary,
embed them in batches and keep the candidate with the highest cosine to the target
(greedy hill climbing; ties keep the current text).

The budget is in texts embedded (every text of every batch counts, the start text too),
enforced by :class:`CountingEmbed` *before* a request is sent, so a run never exceeds it;
calls are counted too (a batch is one call). A text already embedded is never embedded
again. Results are recorded at budget checkpoints: the best text after at most that many
texts, its cosine, exact match and token F1 against the truth when one is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from redteam.privacy._text_metrics import token_f1, tokenize

__all__ = [
    "BudgetExceeded",
    "CountingEmbed",
    "ReconstructionCheckpoint",
    "ReconstructionResult",
    "reconstruct_text",
]

Embed = Callable[[list[str]], np.ndarray]
_EDITS = ("insert", "replace", "delete", "swap")
#: Cosine at which the search stops: the target is reached up to float error.
_CONVERGED = 1.0 - 1e-9


class BudgetExceeded(RuntimeError):
    """A request would embed more texts than the budget allows (it was not sent)."""


class CountingEmbed:
    """Wrap ``embed`` so that at most ``max_texts`` texts are ever embedded.

    Parameters
    ----------
    embed : callable
        ``embed(texts: list[str]) -> ndarray`` of shape ``(len(texts), d)``.
    max_texts : int
        The budget, in texts.

    Attributes
    ----------
    calls, texts : int
        Requests sent and texts embedded so far (a request is counted once sent, even if
        the backend then fails: it may have been billed).
    """

    def __init__(self, embed: Embed, max_texts: int) -> None:
        if max_texts < 1:
            raise ValueError(f"max_texts={max_texts}: must be >= 1")
        self._embed = embed
        self.max_texts = int(max_texts)
        self.calls = 0
        self.texts = 0

    @property
    def remaining(self) -> int:
        """Texts still allowed."""
        return self.max_texts - self.texts

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` if the budget allows, else raise :class:`BudgetExceeded`."""
        texts = list(texts)
        if not texts:
            raise ValueError("embed called with no texts")
        if len(texts) > self.remaining:
            raise BudgetExceeded(
                f"embedding {len(texts)} texts would exceed the budget of {self.max_texts} "
                f"({self.texts} used)"
            )
        self.calls += 1
        self.texts += len(texts)
        out = np.asarray(self._embed(texts), dtype=float)
        if out.ndim != 2 or len(out) != len(texts) or not np.isfinite(out).all():
            raise ValueError(
                f"embed returned shape {out.shape} (finite: {np.isfinite(out).all()}) "
                f"for {len(texts)} texts"
            )
        return out


@dataclass(frozen=True)
class ReconstructionCheckpoint:
    """The best reconstruction after at most ``budget`` embedded texts.

    ``exact_match`` compares token sequences (lower-cased words, numbers, e-mails; the
    punctuation is not scored) and ``token_f1`` token multisets; both are ``None`` without
    a truth.
    """

    budget: int
    texts_used: int
    calls_used: int
    best_text: str
    cosine: float
    exact_match: bool | None
    token_f1: float | None


@dataclass(frozen=True)
class ReconstructionResult:
    """Checkpoints in budget order, the totals and why the search stopped.

    ``stopped`` is ``"budget"`` (all texts used), ``"converged"`` (cosine 1 reached) or
    ``"exhausted"`` (no unseen edit found in ``20 * batch_size`` random draws).
    """

    checkpoints: tuple[ReconstructionCheckpoint, ...]
    start_text: str
    start_cosine: float
    texts_used: int
    calls_used: int
    max_queries: int
    stopped: str


def reconstruct_text(
    embed: Embed,
    target: np.ndarray,
    *,
    vocabulary: Sequence[str],
    start: str | Sequence[str] = "",
    max_queries: int,
    checkpoints: Sequence[int] | None = None,
    truth: str | None = None,
    batch_size: int = 32,
    max_tokens: int = 32,
    seed: int = 0,
) -> ReconstructionResult:
    """Improve a guess by token edits that raise its cosine to ``target``.

    Parameters
    ----------
    embed : callable
        ``embed(texts) -> ndarray (len(texts), d)``; only ever called through a
        :class:`CountingEmbed` with budget ``max_queries``.
    target : ndarray, shape (d,)
        The leaked vector.
    vocabulary : sequence of str
        Words the edits draw from (e.g. the inverter's most probable words plus stop words).
    start : str or sequence of str
        The first hypothesis (text, or tokens); empty starts from one vocabulary word.
    max_queries : int
        Hard budget in texts embedded.
    checkpoints : sequence of int, optional
        Budgets at which to record the best text (default: ``max_queries`` only).
    truth : str, optional
        The real text, for exact match and token F1 (never shown to the search).
    batch_size : int
        Candidate edits embedded per call.
    max_tokens : int
        Longest hypothesis tried.
    seed : int
        Seed of ``np.random.default_rng`` drawing the edits.

    Returns
    -------
    ReconstructionResult
    """
    goal = np.asarray(target, dtype=float).reshape(-1)
    if goal.size == 0 or not np.isfinite(goal).all() or not np.linalg.norm(goal) > 0:
        raise ValueError("target must be a finite, non-zero vector")
    goal = goal / np.linalg.norm(goal)
    words = list(dict.fromkeys(str(w) for w in vocabulary if str(w).strip()))
    if not words:
        raise ValueError("vocabulary is empty")
    if batch_size < 1 or max_tokens < 1:
        raise ValueError(f"batch_size={batch_size}, max_tokens={max_tokens}: both must be >= 1")
    marks = sorted({int(c) for c in (checkpoints or ())} | {int(max_queries)})
    if marks[0] < 1 or marks[-1] > max_queries:
        raise ValueError(
            f"checkpoints {sorted(set(checkpoints or ()))} and max_queries={max_queries}: "
            "each checkpoint must be in [1, max_queries]"
        )
    rng = np.random.default_rng(seed)
    counted = CountingEmbed(embed, max_queries)

    def cosines(texts: list[str]) -> np.ndarray:
        vectors = counted(texts)
        if vectors.shape[1] != goal.size:
            raise ValueError(
                f"embed returned {vectors.shape[1]}-d vectors, the target is {goal.size}-d"
            )
        norms = np.linalg.norm(vectors, axis=1)
        return vectors @ goal / np.where(norms > 0, norms, 1.0)

    tokens = tokenize(start) if isinstance(start, str) else [str(t) for t in start]
    tokens = tokens[:max_tokens] or [words[int(rng.integers(len(words)))]]
    best_text = start_text = " ".join(tokens)
    best = start_cosine = float(cosines([best_text])[0])
    seen = {best_text}
    recorded: list[ReconstructionCheckpoint] = []
    stopped = "budget"

    def record(budget: int) -> None:
        recorded.append(
            ReconstructionCheckpoint(
                budget=budget,
                texts_used=counted.texts,
                calls_used=counted.calls,
                best_text=best_text,
                cosine=best,
                exact_match=None if truth is None else tokenize(best_text) == tokenize(truth),
                token_f1=None if truth is None else token_f1(best_text, truth),
            )
        )

    while True:
        while marks and counted.texts >= marks[0]:
            record(marks.pop(0))
        if not marks:
            break
        if best >= _CONVERGED:
            stopped = "converged"
            break
        # A batch never crosses a checkpoint, so each checkpoint's state is exact.
        size = min(batch_size, marks[0] - counted.texts)
        batch = _candidates(tokens, words, size, max_tokens, seen, rng)
        if not batch:
            stopped = "exhausted"
            break
        seen.update(" ".join(c) for c in batch)
        scores = cosines([" ".join(c) for c in batch])
        i = int(np.argmax(scores))
        if scores[i] > best:
            tokens, best, best_text = batch[i], float(scores[i]), " ".join(batch[i])
    for budget in marks:  # stopped early: later checkpoints hold the final state
        record(budget)
    return ReconstructionResult(
        checkpoints=tuple(recorded),
        start_text=start_text,
        start_cosine=start_cosine,
        texts_used=counted.texts,
        calls_used=counted.calls,
        max_queries=int(max_queries),
        stopped=stopped,
    )


def _candidates(
    tokens: list[str],
    words: list[str],
    size: int,
    max_tokens: int,
    seen: set[str],
    rng: np.random.Generator,
) -> list[list[str]]:
    """Up to ``size`` distinct, not yet embedded single-edit neighbours of ``tokens``."""
    out: list[list[str]] = []
    texts: set[str] = set()
    n = len(tokens)
    possible = {"insert": n < max_tokens, "replace": True, "delete": n > 1, "swap": n > 1}
    allowed = [e for e in _EDITS if possible[e]]
    for _ in range(20 * size):  # draws are random: give up after many repeats
        if len(out) == size:
            break
        edit = allowed[int(rng.integers(len(allowed)))]
        new = list(tokens)
        if edit == "insert":
            new.insert(int(rng.integers(n + 1)), words[int(rng.integers(len(words)))])
        elif edit == "replace":
            new[int(rng.integers(n))] = words[int(rng.integers(len(words)))]
        elif edit == "delete":
            del new[int(rng.integers(n))]
        else:
            j = int(rng.integers(n - 1))
            new[j], new[j + 1] = new[j + 1], new[j]
        text = " ".join(new)
        if text not in seen and text not in texts:
            texts.add(text)
            out.append(new)
    return out
