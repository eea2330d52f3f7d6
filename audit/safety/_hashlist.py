"""Lists of known-bad perceptual hashes: file format, building from images, matching.

File format (UTF-8 text, one entry per line)::

    # anything after '#' is a comment; blank lines are ignored
    # algorithm: pdq            (optional header; otherwise the hex length decides)
    <hex hash> [<category> [<ref>]]

``category`` (default: the list's default category) names the policy category a match
falls in; ``ref`` is an opaque entry id reported on a match (lists built from images give
every crop variant of one image the same ref). One file holds one algorithm. A list never
holds images, only hashes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.safety._hashing import (
    HASH_BITS,
    check_algorithm,
    crop_grid,
    from_hex,
    hamming,
    image_hash,
    to_hex,
)

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]*$")
_HEADER = re.compile(r"^#\s*algorithm\s*:\s*(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class HashMatch:
    """The nearest list entry to a query hash."""

    distance: int
    category: str
    ref: str
    list_name: str


class HashList:
    """Known-bad hashes of one algorithm, with a category and a ref per entry.

    Parameters
    ----------
    algorithm : {"pdq", "phash"}
        Hash algorithm of every entry.
    hashes : sequence of bytes
        Packed hashes (32 bytes for PDQ, 8 for pHash).
    categories : sequence of str
        Policy category of each entry.
    refs : sequence of str
        Opaque id of each entry (reported on a match; never content).
    name : str
        Name used in reasons (the file name when loaded).
    """

    def __init__(
        self,
        algorithm: str,
        hashes: Sequence[bytes],
        categories: Sequence[str],
        refs: Sequence[str],
        *,
        name: str = "hash-list",
    ) -> None:
        self.algorithm = check_algorithm(algorithm)
        nbytes = HASH_BITS[algorithm] // 8
        if not len(hashes) == len(categories) == len(refs):
            raise ValueError(f"{name}: hashes, categories and refs differ in length")
        bad = [i for i, h in enumerate(hashes) if len(h) != nbytes]
        if bad:
            raise ValueError(f"{name}: entries {bad[:10]} are not {nbytes}-byte {algorithm} hashes")
        self.matrix = (
            np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), nbytes).copy()
        )
        self.categories = list(categories)
        self.refs = list(refs)
        self.name = name

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def bits(self) -> int:
        """Hash length in bits."""
        return HASH_BITS[self.algorithm]

    def nearest(self, query: bytes) -> HashMatch | None:
        """The closest entry to ``query`` (``None`` for an empty list)."""
        if len(self) == 0:
            return None
        d = hamming(self.matrix, query)
        i = int(np.argmin(d))
        return HashMatch(int(d[i]), self.categories[i], self.refs[i], self.name)

    # -- building and files ---------------------------------------------------------------

    @classmethod
    def from_images(
        cls,
        images: Iterable[Any],
        *,
        category: str,
        algorithm: str = "phash",
        refs: Sequence[str] | None = None,
        augment: bool = True,
        name: str = "hash-list",
    ) -> HashList:
        """Hash RGB ``PIL.Image`` objects into a list.

        With ``augment`` every image also registers the 35 crop variants of
        :func:`~audit.safety._hashing.crop_grid`, which is what makes matching survive
        crops of up to 5 % per side (hash-only lists from elsewhere lack them).
        """
        _check_token(category, "category")
        hashes: list[bytes] = []
        cats: list[str] = []
        out_refs: list[str] = []
        for k, image in enumerate(images):
            ref = refs[k] if refs is not None else f"img{k}"
            _check_token(ref, "ref")
            variants = crop_grid(image) if augment else [image]
            for v in variants:
                hashes.append(image_hash(v, algorithm))
                cats.append(category)
                out_refs.append(ref)
        return cls(algorithm, hashes, cats, out_refs, name=name)

    @classmethod
    def load(cls, path: str | Path, *, default_category: str = "known-bad-hash") -> HashList:
        """Read a hash-list file (format in the module docstring).

        Raises
        ------
        ValueError
            Naming ``file:line`` for every bad line (not only the first), a mixed or
            undeclared algorithm, or an unreadable file.
        """
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"hash list {path}: cannot read ({exc})") from exc
        declared: str | None = None
        hashes: list[bytes] = []
        cats: list[str] = []
        refs: list[str] = []
        algs: set[str] = set()
        errors: list[str] = []
        for n, raw in enumerate(lines, start=1):
            header = _HEADER.match(raw.strip())
            if header:
                declared = header.group(1).lower()
                if declared not in HASH_BITS:
                    errors.append(f"{path}:{n}: unknown algorithm {declared!r}")
                continue
            fields = raw.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) > 3:
                errors.append(f"{path}:{n}: expected 'HEX [CATEGORY [REF]]', got {len(fields)}")
                continue
            try:
                packed, alg = from_hex(fields[0])
                category = fields[1] if len(fields) > 1 else default_category
                _check_token(category, "category")
                ref = fields[2] if len(fields) > 2 else f"line{n}"
                _check_token(ref, "ref")
            except ValueError as exc:
                errors.append(f"{path}:{n}: {exc}")
                continue
            algs.add(alg)
            hashes.append(packed)
            cats.append(category)
            refs.append(ref)
        if declared is not None and algs - {declared}:
            errors.append(f"{path}: header says {declared} but entries are {sorted(algs)}")
        if len(algs) > 1:
            errors.append(f"{path}: mixes algorithms {sorted(algs)}; use one file per algorithm")
        if errors:
            raise ValueError(f"hash list has {len(errors)} problem(s):\n  " + "\n  ".join(errors))
        algorithm = declared or (algs.pop() if algs else "pdq")
        if not hashes:
            log.warning("hash list %s is empty", path)
        return cls(algorithm, hashes, cats, refs, name=path.name)

    def save(self, path: str | Path) -> Path:
        """Write the list in the file format (header, then ``HEX CATEGORY REF`` lines)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [f"# algorithm: {self.algorithm}"]
        rows += [
            f"{to_hex(row.tobytes())} {cat} {ref}"
            for row, cat, ref in zip(self.matrix, self.categories, self.refs, strict=True)
        ]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        return path


def _check_token(value: str, what: str) -> None:
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise ValueError(f"invalid {what} {value!r}: use letters, digits and _ . : / - (no spaces)")
