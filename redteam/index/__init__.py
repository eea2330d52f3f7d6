"""Attacks on indexed data: targeted hijack, adversarial hubs, text corpus poisoning.

Registered in :data:`index_attacks` as :class:`~redteam._specs.IndexAttackSpec` entries
(the function plus what it plants and what bounds it); an entry is callable and runs the
attack.
"""

from redteam._registry import Registry
from redteam._specs import IndexAttackSpec
from redteam.index._embedding_pgd import pgd_toward
from redteam.index._hijack import HijackResult, hijack
from redteam.index._hotflip import HotFlipResult, MeanPoolEncoder, hotflip_passage
from redteam.index._hub import HubResult, adversarial_hub, hub_hit_rate
from redteam.index._poison_prefix import (
    STOPWORDS,
    PoisonReport,
    evaluate_poisoning,
    prefix_poison,
    query_keywords,
)

__all__ = [
    "STOPWORDS",
    "HijackResult",
    "HotFlipResult",
    "HubResult",
    "IndexAttackSpec",
    "MeanPoolEncoder",
    "PoisonReport",
    "adversarial_hub",
    "evaluate_poisoning",
    "hijack",
    "hotflip_passage",
    "hub_hit_rate",
    "index_attacks",
    "pgd_toward",
    "prefix_poison",
    "query_keywords",
]

#: Registered indexed-data attacks: name -> IndexAttackSpec (callable: runs the attack); the
#: description is the function's docstring.
index_attacks: Registry[IndexAttackSpec] = Registry("index attack")
index_attacks.add(IndexAttackSpec("hijack", hijack, "image", "Linf", gradients=True))
index_attacks.add(IndexAttackSpec("hub", adversarial_hub, "image", "Linf", gradients=True))
index_attacks.add(IndexAttackSpec("poison-prefix", prefix_poison, "text", "unbounded", False))
index_attacks.add(IndexAttackSpec("poison-hotflip", hotflip_passage, "text", "tokens", True))
