"""A small named registry: explicit registration, duplicates rejected, close names suggested."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """``"; did you mean 'x'?"`` naming the closest of ``known`` to ``name``, or ``""``.

    One suggestion rule for every "unknown name" message (registries, config keys, backend
    spec options), so a typo gets the same help wherever it is made.
    """
    close = difflib.get_close_matches(name, list(known), n=n, cutoff=0.5)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else ""


class RegistryError(KeyError):
    """Unknown or duplicate name in a registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Names to components of one kind (suites, probes, attacks, embedders, checkers).

    Parameters
    ----------
    kind : str
        What is registered, for error messages ("suite", "embedder", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name``; a name can be registered once."""
        if not name or not name.replace("-", "").replace("_", "").replace("/", "").isalnum():
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
        """Return the entry for ``name`` or raise with the closest known names."""
        try:
            return self._entries[name]
        except KeyError:
            hint = did_you_mean(name, self._entries)
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
