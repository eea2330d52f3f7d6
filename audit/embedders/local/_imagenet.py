"""ImageNet-1k class names shipped as project data (``data/imagenet_classes.txt``).

The file's header comments give the provenance (timm's WordNet synset and lemma
files) and the naming rule.
"""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["IMAGENET_CLASSES_PATH", "load_imagenet_classes"]

IMAGENET_CLASSES_PATH = Path(__file__).with_name("data") / "imagenet_classes.txt"
_NUM_CLASSES = 1000


@functools.lru_cache(maxsize=4)
def _read_classes(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"ImageNet class-name file not found: {path}") from exc
    # A tuple in the cache so callers cannot mutate the shared copy.
    return tuple(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def load_imagenet_classes(path: str | Path | None = None) -> list[str]:
    """Return the 1000 ImageNet-1k class names in class-index order.

    Parameters
    ----------
    path : str or Path, optional
        A class-name file (one name per line, ``#`` comment lines and blank lines
        skipped); defaults to the file shipped with the package.

    Returns
    -------
    list of str
        1000 names; index ``i`` is the name of logit ``i`` (e.g. 285 ``"Egyptian cat"``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file does not hold exactly 1000 names.
    """
    source = Path(path) if path is not None else IMAGENET_CLASSES_PATH
    names = _read_classes(source.resolve())
    if len(names) != _NUM_CLASSES:
        raise ValueError(
            f"ImageNet class-name file {source}: expected {_NUM_CLASSES} names, got {len(names)}"
        )
    return list(names)
