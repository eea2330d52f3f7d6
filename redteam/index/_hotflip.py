"""Gradient-guided token flips for corpus poisoning (HotFlip, Ebrahimi et al. 2018, as
used by Zhong et al., EMNLP 2023, "Poisoning Retrieval Corpora by Injecting Adversarial
Passages"), for a local differentiable text encoder.

Each step picks an editable position, ranks every vocabulary token by the first-order gain
``(W[v] - W[current]) . grad`` of the mean query similarity, scores the top candidates
exactly, and keeps the best one if it improves the objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn
from torch.nn import functional as F

from redteam._torch import eval_mode
from redteam.metrics import unit_rows


@dataclass(frozen=True)
class HotFlipResult:
    """Outcome of :func:`hotflip_passage`.

    Attributes
    ----------
    token_ids : ndarray of int, shape (L,)
        The adversarial passage.
    similarity, initial_similarity : float
        Mean cosine between the passage and the target queries, after and before.
    history : list of float
        Objective after each step.
    evaluations : int
        Candidate passages scored (forward passes of single sequences).
    """

    token_ids: np.ndarray
    similarity: float
    initial_similarity: float
    history: list[float]
    evaluations: int


class MeanPoolEncoder(nn.Module):
    """Adapter for Hugging Face encoders (BERT-like): inputs_embeds -> mean-pooled,
    L2-normalised sentence embedding, the sentence-transformers recipe of MiniLM.

    Parameters
    ----------
    model : nn.Module
        A transformers model accepting ``inputs_embeds`` and returning
        ``last_hidden_state`` (duck-typed; transformers is not imported here).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    @property
    def token_embeddings(self) -> torch.Tensor:
        """The model's input embedding matrix (V, E)."""
        return self.model.get_input_embeddings().weight  # type: ignore[operator]

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        """(N, L, E) -> (N, D)."""
        mask = torch.ones(inputs_embeds.shape[:2], device=inputs_embeds.device)
        out: Any = self.model(inputs_embeds=inputs_embeds, attention_mask=mask)
        return F.normalize(out.last_hidden_state.mean(dim=1), dim=-1)


def hotflip_passage(
    encoder: nn.Module,
    token_embeddings: torch.Tensor,
    target_queries: ArrayLike,
    init_ids: Sequence[int],
    *,
    steps: int = 100,
    n_candidates: int = 20,
    editable: Sequence[int] | None = None,
    banned_ids: Sequence[int] = (),
    seed: int = 0,
) -> HotFlipResult:
    """Optimise a token sequence to be similar to many target queries.

    Parameters
    ----------
    encoder : nn.Module
        (N, L, E) token embeddings -> (N, D) passage embeddings.
    token_embeddings : Tensor, shape (V, E)
        Input embedding matrix of the encoder's vocabulary.
    target_queries : array-like, shape (Q, D)
        Query embeddings from the same model.
    init_ids : sequence of int
        Starting passage (e.g. [CLS] + L x "the" + [SEP]).
    steps : int
        Flip attempts.
    n_candidates : int
        Tokens scored exactly per step.
    editable : sequence of int, optional
        Positions that may change (default all; exclude special tokens).
    banned_ids : sequence of int
        Tokens never inserted (special tokens, padding).
    seed : int
        Seed of the position choices.

    Returns
    -------
    HotFlipResult
    """
    w = token_embeddings.detach()
    ids = torch.as_tensor(list(init_ids), dtype=torch.long, device=w.device)
    if ids.ndim != 1 or ids.numel() == 0 or int(ids.min()) < 0 or int(ids.max()) >= w.shape[0]:
        raise ValueError(f"init_ids must be token ids in [0, {w.shape[0]})")
    positions = list(range(len(ids))) if editable is None else [int(p) for p in editable]
    if not positions or min(positions) < 0 or max(positions) >= len(ids):
        raise ValueError(f"editable must be positions in [0, {len(ids)})")
    q = torch.from_numpy(unit_rows(target_queries, "target_queries")).float().to(w.device)
    direction = q.mean(dim=0)  # mean cosine = <e, mean of unit queries> for unit e
    banned = torch.zeros(w.shape[0], dtype=torch.bool, device=w.device)
    banned[torch.as_tensor(list(banned_ids), dtype=torch.long, device=w.device)] = True
    rng = np.random.default_rng(seed)
    with eval_mode(encoder):

        def objective(batch_ids: torch.Tensor) -> torch.Tensor:
            return F.normalize(encoder(w[batch_ids]), dim=-1) @ direction

        with torch.no_grad():
            current = float(objective(ids[None])[0])
        initial, history, evaluations = current, [], 1
        for _ in range(steps):
            pos = int(rng.choice(positions))
            emb = w[ids][None].clone().requires_grad_(True)
            obj = F.normalize(encoder(emb), dim=-1) @ direction
            (grad,) = torch.autograd.grad(obj.sum(), emb)
            gain = w @ grad[0, pos]  # first-order gain up to the constant W[current] . grad
            gain[banned] = -torch.inf
            gain[ids[pos]] = -torch.inf
            cands = gain.topk(min(n_candidates, int((~banned).sum()) - 1)).indices
            trial = ids[None].repeat(len(cands), 1)
            trial[:, pos] = cands
            with torch.no_grad():
                scores = objective(trial)
            evaluations += len(cands)
            best = int(scores.argmax())
            if float(scores[best]) > current:
                ids, current = trial[best].clone(), float(scores[best])
            history.append(current)
    return HotFlipResult(
        token_ids=ids.cpu().numpy(),
        similarity=current,
        initial_similarity=initial,
        history=history,
        evaluations=evaluations,
    )
