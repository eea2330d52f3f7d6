"""Registries: explicit registration, duplicates rejected, close names suggested."""

from __future__ import annotations

import pytest

import redteam
from redteam import Registry, RegistryError
from redteam.tensor import TensorAttackSpec
from redteam.text import TextAttack

ALL = {
    "text": redteam.text_attacks,
    "tensor": redteam.tensor_attacks,
    "index": redteam.index_attacks,
    "defense": redteam.defenses,
}


def test_duplicate_and_unknown_names() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("pgd-linf", 1)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("pgd-linf", 2)
    with pytest.raises(RegistryError, match="did you mean 'pgd-linf'"):
        reg.get("pgd-lnf")
    with pytest.raises(RegistryError, match="invalid"):
        reg.register("Bad Name", 3)


def test_real_registries_suggest_close_names() -> None:
    with pytest.raises(RegistryError, match="'homoglyph'"):
        redteam.text_attacks.get("homoglyf")
    with pytest.raises(RegistryError, match="'pgd'"):
        redteam.tensor_attacks.get("pdg")


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, reg in ALL.items() for n in reg.names()])
def test_every_entry_is_usable(kind: str, name: str) -> None:
    entry = ALL[kind].get(name)
    if kind == "text":
        assert issubclass(entry, TextAttack) and entry.name == name
        assert entry(budget=2, seed=0).perturb(["hello world again"])[0] != "hello world again"
    elif kind == "tensor":
        assert isinstance(entry, TensorAttackSpec) and entry.name == name
        assert entry.norm in ("Linf", "L2", "unbounded")
    else:
        assert callable(entry)


def test_expected_entries_are_registered() -> None:
    assert set(redteam.text_attacks.names()) == {
        "typo-swap", "typo-drop", "typo-insert", "typo-keyboard", "homoglyph",
        "invisible", "bidi-reorder", "case-noise", "whitespace-noise",
    }  # fmt: skip
    assert {"pgd", "fgsm", "apgd", "cw", "square", "pgdl2", "mifgsm"} <= set(
        redteam.tensor_attacks.names()
    )
