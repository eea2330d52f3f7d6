"""Whether each embedder backend can run on this machine now, and what it accepts (for
``audit list embedders``), read from the hooks its :data:`~audit.embedders.EMBEDDERS`
entry names.

Nothing here loads a model or sends a request: each backend's own ``availability`` hook
decides how to tell (``local`` checks its pinned weight files by sha256, ``bedrock`` asks
boto3's credential chain whether it resolves, ``gemini``/``vertex`` look for Google's client
and where credentials would come from, never their values).
"""

from __future__ import annotations

import importlib

__all__ = ["availability", "capabilities"]


def _hook(target: str):  # "module:function" -> the function
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)


def _entry(name: str):
    from audit.embedders import EMBEDDERS

    if name not in EMBEDDERS:
        known = ", ".join(EMBEDDERS.names())
        raise ValueError(f"unknown embedder backend {name!r} (known: {known})")
    return EMBEDDERS.get(name)


def availability(name: str) -> tuple[bool, str]:
    """``(can_run, reason)`` for the backend registered as ``name``.

    Parameters
    ----------
    name : str
        A registered backend (``local``, ``bedrock``, ``gemini``, ``vertex``, ``st``, ...).

    Returns
    -------
    tuple of (bool, str)
        Whether it can run here now, and why in a few words. A backend whose entry names
        no check reports ``(True, "no availability check for this backend")``.

    Raises
    ------
    ValueError
        For a name that is not a backend.
    """
    entry = _entry(name)
    if entry.availability is None:
        return True, "no availability check for this backend"
    return _hook(entry.availability)()


def capabilities(name: str) -> list[str]:
    """Lines on the modalities and sizes of backend ``name`` (from its own tables)."""
    entry = _entry(name)
    if entry.capabilities is None:
        return ["modalities and dims: depend on the model"]
    return list(_hook(entry.capabilities)())
