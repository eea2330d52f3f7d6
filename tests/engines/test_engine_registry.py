"""An engine is one registry entry: wrap_engine reads its wrap hook, no branch on names."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from fakes import HashEmbedder

from audit.embedders import EmbedderWrapper
from audit.engines import ENGINES, EngineEntry, wrap_engine
from audit.registry import Registry


class _Doubling(EmbedderWrapper):
    """A stand-in engine: embeds through the base, records the options it was given."""

    def __init__(self, base, options):
        super().__init__(base)
        self.options = options

    def embed(self, items, *, purpose="index", dim=None):
        return self.base.embed(items, purpose=purpose, dim=dim)


def test_a_registered_engine_is_built_from_its_hook(monkeypatch):
    hooks = types.ModuleType("engine_hooks_for_test")
    hooks.wrap = lambda base, spec, options: _Doubling(base, {"spec": spec, **options})
    monkeypatch.setitem(sys.modules, "engine_hooks_for_test", hooks)
    registry: Registry[EngineEntry] = Registry("engine")
    for name in ENGINES.names():
        registry.add(ENGINES.get(name))
    registry.add(EngineEntry("toy", "a toy engine", True, "engine_hooks_for_test:wrap"))
    monkeypatch.setattr("audit.engines._options.ENGINES", registry)

    base = HashEmbedder()
    wrapped = wrap_engine(base, "fake", engine="toy", options={"x": 1})
    assert isinstance(wrapped, _Doubling)
    assert wrapped.options == {"spec": "fake", "x": 1}
    assert wrapped.unwrap() is base
    assert wrap_engine(base, "fake", engine="inprocess", options={}) is base
    with pytest.raises(ValueError, match="the inprocess engine takes no options"):
        wrap_engine(base, "fake", engine="inprocess", options={"x": 1})
    with pytest.raises(ValueError, match="did you mean 'toy'"):
        wrap_engine(base, "fake", engine="tyo", options={})
    from audit.items import Item

    items = [Item("a", "text", "hello"), Item("b", "text", "world")]
    np.testing.assert_array_equal(wrapped.embed(items), base.embed(items))
