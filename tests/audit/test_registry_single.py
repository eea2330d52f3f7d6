"""One registry implementation for the distribution, and suite choices derived from it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import audit.registry
import redteam._registry
from audit.config import ConfigError
from audit.registry import NAME_PATTERN, Registry, RegistryError, did_you_mean


def test_audit_reexports_the_redteam_implementation() -> None:
    assert audit.registry.Registry is redteam._registry.Registry
    assert audit.registry.RegistryError is redteam._registry.RegistryError
    assert audit.registry.did_you_mean is redteam._registry.did_you_mean


def test_importing_the_registry_imports_no_torch() -> None:
    code = "import audit.registry, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _every_registered_name() -> list[str]:
    from audit.datasets._registry import BUILTINS
    from audit.embedders import EMBEDDERS
    from audit.safety._registry import CHECKERS
    from audit.suites import SUITES
    from audit.suites.bias import list_probes
    from redteam.defenses import defenses
    from redteam.index import index_attacks
    from redteam.tensor import tensor_attacks
    from redteam.text import text_attacks

    regs = (SUITES, EMBEDDERS, CHECKERS, BUILTINS, text_attacks, tensor_attacks, index_attacks)
    names = [n for reg in (*regs, defenses) for n in reg]
    return names + [name for name, _ in list_probes()]


def test_the_name_rule_accepts_every_existing_name() -> None:
    names = _every_registered_name()
    assert len(names) > 40
    assert [n for n in names if not NAME_PATTERN.fullmatch(n)] == []
    reg: Registry[int] = Registry("thing")
    for name in ("skew/MyGallery-csv", "weat/career_family", "pgd"):
        reg.register(name, 1)  # upper case: probe names carry user dataset labels
    for bad in ("", "Bad Name", "-lead", "/root", "café", "a.b", "x\n"):
        with pytest.raises(RegistryError, match="invalid thing name"):
            reg.register(bad, 1)


def test_order_filters_and_descriptions() -> None:
    reg: Registry[tuple[int, str]] = Registry("thing")
    for name, n in (("zeta", 1), ("alpha", 2), ("mid", 3)):
        reg.register(name, (n, f"entry {n}"))
    assert reg.names() == ["alpha", "mid", "zeta"]
    assert list(reg) == reg.names()
    assert reg.in_order() == ["zeta", "alpha", "mid"]
    assert reg.in_order(lambda e: e[0] != 2) == ["zeta", "mid"]
    assert reg.names(lambda e: e[0] > 1) == ["alpha", "mid"]
    assert reg.items()[0] == ("alpha", (2, "entry 2"))
    with pytest.raises(RegistryError, match=r"did you mean 'alpha'\? \(known: alpha, mid, zeta\)"):
        reg.get("alpah")
    assert did_you_mean("alpah", reg) == "; did you mean 'alpha'?"
    assert did_you_mean("qqqq", reg) == ""


def test_describe_reads_description_then_docstring() -> None:
    from redteam.defenses import defenses
    from redteam.text import text_attacks

    assert defenses.describe("csls") == defenses.get("csls").description
    first_paragraph = text_attacks.get("homoglyph").__doc__.strip().split("\n\n")[0]
    described = text_attacks.describe("homoglyph")
    assert described == " ".join(first_paragraph.split()) and "\n" not in described


def test_redteam_entries_carry_typed_metadata() -> None:
    from redteam.defenses import CSLS, defenses
    from redteam.index import index_attacks
    from redteam.tensor import tensor_attacks
    from redteam.text import text_attacks

    csls = defenses.get("csls")
    assert csls.target is CSLS and isinstance(csls(k=3), CSLS)  # the entry builds it
    assert {n: defenses.get(n).role for n in defenses} == {
        "unicode-sanitize": "sanitizer", "jpeg": "squeezer", "bit-depth": "squeezer",
        "squeeze-detector": "detector", "hubness": "detector", "csls": "reranker",
        "mutual-proximity": "reranker",
    }  # fmt: skip
    assert {index_attacks.get(n).modality for n in ("hijack", "hub")} == {"image"}
    assert {index_attacks.get(n).threat_model for n in index_attacks} == {"index"}
    assert tensor_attacks.get("square").threat_model == "black-box"
    assert tensor_attacks.get("pgd").threat_model == "white-box"
    assert {text_attacks.get(n).threat_model for n in text_attacks} == {"text"}


def test_redteam_suite_choices_come_from_the_registries() -> None:
    """The lists the suite had by hand before its options were derived from the registries."""
    from audit.suites._redteam import _options as o

    assert o.TEXT_ATTACKS == (
        "typo-swap", "typo-drop", "typo-insert", "typo-keyboard", "homoglyph", "invisible",
        "bidi-reorder", "case-noise", "whitespace-noise",
    )  # fmt: skip
    assert set(o.LINF_ATTACKS) == {"pgd", "fgsm", "mifgsm", "apgd"}
    assert o.SQUEEZERS == ("jpeg", "bit-depth")
    assert o.RERANKERS == ("csls", "mutual-proximity")
    opts = o.RedteamOptions.parse({}, quick=True)
    assert opts.text_attacks == list(o.TEXT_ATTACKS) and opts.rerankers == list(o.RERANKERS)


@pytest.mark.parametrize(
    ("key", "bad", "hint"),
    [
        ("text_attacks", "homoglif", "homoglyph"),
        ("image_attacks", "mifgms", "mifgsm"),
        ("squeezers", "jpg", "jpeg"),
        ("rerankers", "cls", "csls"),
    ],
)
def test_unknown_suite_choice_names_the_closest(key: str, bad: str, hint: str) -> None:
    from audit.suites._redteam._options import RedteamOptions

    want = rf"{key} must be a list drawn from .*did you mean '{hint}'"
    with pytest.raises(ConfigError, match=want):
        RedteamOptions.parse({key: [bad]}, quick=True)
