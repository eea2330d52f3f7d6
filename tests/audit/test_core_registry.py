import pytest

from audit.registry import Registry, RegistryError


def test_duplicates_rejected_and_close_names_suggested():
    reg: Registry[int] = Registry("suite")
    reg.register("retrieval", 1)
    reg.register("redteam", 2)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("retrieval", 3)
    with pytest.raises(RegistryError, match="did you mean 'retrieval'"):
        reg.get("retreival")
    with pytest.raises(RegistryError, match="known: redteam, retrieval"):
        reg.get("zzz")
    assert reg.names() == ["redteam", "retrieval"]
    assert reg.get("redteam") == 2


@pytest.mark.parametrize("registry_name", ["suites", "embedders"])
def test_every_registered_entry_resolves(registry_name):
    """Each registry entry points at an importable class (the common registry test)."""
    import importlib

    if registry_name == "suites":
        from audit.suites import SUITES as reg
        from audit.suites.base import Suite as kind
    else:
        from audit.embedders import EMBEDDERS as reg

        kind = None  # embedder entries are factories: classes or functions
    assert len(reg) > 0
    for name in reg:
        module, _, attr = reg.get(name).target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        if kind is None:
            assert callable(obj), name
        else:
            assert isinstance(obj, type) and issubclass(obj, kind), name
        assert reg.get(name).description
