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
- :mod:`redteam.metrics` - success rates, Recall@k, drift, perturbation size;
- :mod:`redteam.privacy` - privacy attacks on vectors and indexes (attribute inference,
  text inversion, membership inference) and their defenses; torch-free, imported directly
  (``from redteam.privacy import probe_attribute``), not through the names below.

The names below are loaded on first use (PEP 562): ``import redteam`` alone imports
nothing, so torch-free users -- the registry (:mod:`redteam._registry`), the homoglyph
table (:mod:`redteam.text`) for the safety filter, the CLI -- never pay for torch, which
:mod:`redteam.tensor`, :mod:`redteam.index` and :mod:`redteam.defenses` import.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs only; at run time see __getattr__
    from redteam._registry import Registry, RegistryError
    from redteam.defenses import defenses
    from redteam.index import index_attacks
    from redteam.metrics import AttackReport, evaluate_attack
    from redteam.tensor import tensor_attacks
    from redteam.text import text_attacks

#: Public name -> the module that defines it (imported when the name is first read).
_SOURCES = {
    "AttackReport": "redteam.metrics",
    "Registry": "redteam._registry",
    "RegistryError": "redteam._registry",
    "defenses": "redteam.defenses",
    "evaluate_attack": "redteam.metrics",
    "index_attacks": "redteam.index",
    "tensor_attacks": "redteam.tensor",
    "text_attacks": "redteam.text",
}

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


class _Package(types.ModuleType):
    """This package's module type: a loaded subpackage never hides a public name.

    The registry ``defenses`` shares its name with the subpackage that defines it. The
    import system binds every loaded subpackage on its parent (``redteam.defenses =
    <module>``) once it has run, so a plain lazy package would answer ``from redteam
    import defenses`` with the module after anyone imported ``redteam.defenses``. Binding
    the module's own public name instead keeps ``redteam.defenses`` the registry, as it
    was when this package imported it eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in _SOURCES
            and isinstance(value, types.ModuleType)
            and value.__name__ == _SOURCES[name]
        ):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Import the module behind a public name on first access (PEP 562) and cache it."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'redteam' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value  # later reads skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
