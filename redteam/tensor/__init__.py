"""Image and audio query attacks through retrieval heads (torchattacks underneath).

White-box: :class:`RetrievalHead` turns an embedder into an (N, C) classifier over a
gallery so PGD/FGSM/APGD/CW/MI-FGSM apply. Black-box: :class:`ScoreHead` over any embed
callable, with a query budget, for Square. Transfer: craft on a surrogate head, replay on a
target. Audio: :class:`WaveformAdapter` maps waveforms to the [0, 1] range and back.
"""

from redteam.tensor._head import (
    ArrayEmbedFn,
    QueryBudgetExceeded,
    RetrievalHead,
    ScoreHead,
    WaveformAdapter,
    module_embed_fn,
)
from redteam.tensor._run import QueryAttackResult, craft, run_query_attack, transfer_attack
from redteam.tensor._specs import AttackSettings, TensorAttackSpec, build_attack, tensor_attacks

__all__ = [
    "ArrayEmbedFn",
    "AttackSettings",
    "QueryAttackResult",
    "QueryBudgetExceeded",
    "RetrievalHead",
    "ScoreHead",
    "TensorAttackSpec",
    "WaveformAdapter",
    "build_attack",
    "craft",
    "module_embed_fn",
    "run_query_attack",
    "tensor_attacks",
    "transfer_attack",
]
