"""Red-team library of mme-audit: attacks on queries and on indexed data, and defenses.

A library of its own: it takes arrays, tensors, torch modules and plain callables, and
never imports ``audit``. Subpackages:

- :mod:`redteam.text` - black-box text query attacks (typos, homoglyphs, invisible and
  bidi characters, case/whitespace noise);
- :mod:`redteam.tensor` - image/audio query attacks through retrieval heads (torchattacks:
  PGD, FGSM, APGD, CW, MI-FGSM white-box; Square score-based with a query budget; transfer);
- :mod:`redteam.index` - indexed-data attacks (targeted hijack, adversarial hub, corpus
  poisoning by query prefix and by HotFlip);
- :mod:`redteam.defenses` - Unicode sanitisation, feature squeezing, hubness detection,
  CSLS and mutual-proximity re-ranking;
- :mod:`redteam.metrics` - success rates, Recall@k, drift, perturbation size.
"""

from redteam._registry import Registry, RegistryError
from redteam.defenses import defenses
from redteam.index import index_attacks
from redteam.metrics import AttackReport, evaluate_attack
from redteam.tensor import tensor_attacks
from redteam.text import text_attacks

__all__ = [
    "AttackReport",
    "Registry",
    "RegistryError",
    "defenses",
    "evaluate_attack",
    "index_attacks",
    "tensor_attacks",
    "text_attacks",
]
