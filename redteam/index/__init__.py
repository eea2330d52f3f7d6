"""Attacks on indexed data: targeted hijack, adversarial hubs, text corpus poisoning."""

from collections.abc import Callable
from typing import Any

from redteam._registry import Registry
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

#: Registered indexed-data attacks: name -> the function that runs it.
index_attacks: Registry[Callable[..., Any]] = Registry("index attack")
index_attacks.register("hijack", hijack)
index_attacks.register("hub", adversarial_hub)
index_attacks.register("poison-prefix", prefix_poison)
index_attacks.register("poison-hotflip", hotflip_passage)

__all__ = [
    "STOPWORDS",
    "HijackResult",
    "HotFlipResult",
    "HubResult",
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
