"""The one named-registry implementation of the distribution.

Explicit registration, duplicates rejected, close names suggested. Every registry of
mme-audit is an instance of :class:`Registry`: ``audit`` (suites, embedders, checkers,
datasets, engines, metrics) re-exports it from :mod:`audit.registry`; ``redteam`` (text,
tensor and index attacks, defenses) uses it directly. It lives here, not in ``audit``,
because ``redteam`` and ``fairness`` are libraries of their own that never import
``audit``, while ``audit`` may import them. It imports only the standard library, so any
layer (the torch-free CLI, the dashboard) can import it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

#: A registered name: ASCII letters and digits, ``-``, ``_`` and ``/`` (a namespace, as in
#: ``weat/career``), starting with a letter or a digit. Upper case is allowed because probe
#: names carry user dataset labels (``skew/MyGallery-csv``).
#: Matched with ``fullmatch`` (``$`` would let a trailing newline through).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-/]*")


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """``"; did you mean 'x'?"`` naming the closest of ``known`` to ``name``, or ``""``.

    One suggestion rule for every "unknown name" message (registries, config keys, backend
    spec options, suite options), so a typo gets the same help wherever it is made.
    """
    close = difflib.get_close_matches(str(name), list(known), n=n, cutoff=0.5)
    return f"; did you mean {', '.join(map(repr, close))}?" if close else ""


class RegistryError(KeyError):
    """Unknown, invalid or duplicate name in a registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Names to components of one kind (suites, embedders, attacks, defenses, metrics, ...).

    Entries are typed (``Registry[TensorAttackSpec]``); most kinds register a frozen
    dataclass carrying the component and its metadata, so CLI choices, option validation,
    defaults and listings are derived from the registry instead of repeated.

    Parameters
    ----------
    kind : str
        What is registered, used in error messages ("suite", "text attack", ...).

    Examples
    --------
    >>> reg: Registry[int] = Registry("thing")
    >>> reg.register("one", 1)
    1
    >>> reg.get("on")
    Traceback (most recent call last):
    ...
    redteam._registry.RegistryError: unknown thing 'on'; did you mean 'one'? (known: one)
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` (see :data:`NAME_PATTERN`); once per name."""
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise RegistryError(f"invalid {self.kind} name {name!r}")
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        return obj

    def add(self, entry: T) -> T:
        """Register an entry that carries its own ``name`` (a spec dataclass)."""
        return self.register(entry.name, entry)  # type: ignore[attr-defined]

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
            raise RegistryError(self.unknown(name)) from None

    def unknown(self, name: object) -> str:
        """The "unknown name" message for ``name``, with close names and the known ones."""
        hint = did_you_mean(str(name), self._entries)
        known = ", ".join(sorted(self._entries)) or "none"
        return f"unknown {self.kind} {name!r}{hint} (known: {known})"

    def names(self, where: Callable[[T], bool] | None = None) -> list[str]:
        """Registered names, sorted; with ``where``, only those whose entry satisfies it."""
        return sorted(n for n, e in self._entries.items() if where is None or where(e))

    def in_order(self, where: Callable[[T], bool] | None = None) -> list[str]:
        """Registered names in registration order (the order a run uses them in)."""
        return [n for n, e in self._entries.items() if where is None or where(e)]

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs, sorted by name."""
        return [(n, self._entries[n]) for n in self.names()]

    def describe(self, name: str) -> str:
        """About ``name``: the entry's ``description``, else its docstring's first paragraph
        (on one line)."""
        entry = self.get(name)
        text = getattr(entry, "description", None)
        if not isinstance(text, str) or not text:
            text = (getattr(entry, "__doc__", None) or "").strip().split("\n\n")[0]
        return " ".join(text.split())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
