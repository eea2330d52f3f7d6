"""A small named registry: explicit registration, duplicates rejected, close names suggested.

redteam is a library of its own and never imports ``audit``, so it carries this copy of
the pattern (the same contract as ``audit.registry``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-/]*$")


class RegistryError(KeyError):
    """Unknown or duplicate name in a registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Names to components of one kind (text attacks, tensor attacks, defenses, ...).

    Parameters
    ----------
    kind : str
        What is registered, used in error messages ("text attack", "defense", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` (lower case, digits, ``-_/``); once per name."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise RegistryError(f"invalid {self.kind} name {name!r}")
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def decorator(self, name: str) -> Callable[[T], T]:
        """``@registry.decorator("name")`` form of :meth:`register`."""

        def wrap(obj: T) -> T:
            return self.register(name, obj)

        return wrap

    def get(self, name: str) -> T:
        """Return the entry for ``name`` or raise naming the closest known names."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), list(self._entries), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
