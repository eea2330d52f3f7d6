"""Perceptual image hashes: PDQ (256 bits) and pHash (64 bits), packed as bytes.

- ``pdq``: Meta's PDQ, the format industry hash-sharing uses (ThreatExchange, StopNCII);
  computed by the ``pdqhash`` package. Customary match threshold: Hamming distance <= 31.
  Robust to re-encoding and resizing, weak to crops (a 5% crop moves it by ~60 bits).
- ``phash``: the DCT hash of Zauner (2010) as ``imagehash.phash`` computes it (grey 32x32
  Lanczos thumbnail, 2-D DCT-II, top-left 8x8 block thresholded at its median), written
  here so the filter needs only numpy/scipy; the tests compare it bit for bit with
  imagehash. Default match threshold: 10 of 64 bits.

Hashes are packed big-endian (first bit = most significant bit of the first byte), so the
hex form is the one imagehash prints and, for PDQ, ThreatExchange's 64-hex-digit form.
Crop robustness comes from registering crop variants (:func:`crop_grid`) next to the
original when a hash list is built from images.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: algorithm -> hash length in bits.
HASH_BITS: dict[str, int] = {"pdq": 256, "phash": 64}
#: algorithm -> default maximum Hamming distance that counts as a match.
DEFAULT_MAX_DISTANCE: dict[str, int] = {"pdq": 31, "phash": 10}

# Fractions cut from one side of an axis: none, 2.5 % or 5 % from either end, or 2.5 %
# from both (a 5 % centre crop). 6 x 6 combinations cover every crop of up to 5 % per
# axis to within 1.25 % of a registered variant.
_AXIS_CUTS: tuple[tuple[float, float], ...] = (
    (0.0, 0.0),
    (0.0, 0.025),
    (0.025, 0.0),
    (0.0, 0.05),
    (0.05, 0.0),
    (0.025, 0.025),
)


def check_algorithm(algorithm: str) -> str:
    """Validate an algorithm name (``pdq`` or ``phash``)."""
    if algorithm not in HASH_BITS:
        raise ValueError(f"unknown hash algorithm {algorithm!r}; use one of {sorted(HASH_BITS)}")
    return algorithm


def phash(image: Any) -> bytes:
    """64-bit DCT perceptual hash of an RGB ``PIL.Image`` (imagehash's ``phash``)."""
    from PIL import Image
    from scipy.fft import dct

    grey = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), np.float64)
    coeffs = dct(dct(grey, axis=0), axis=1)[:8, :8]
    bits = coeffs > np.median(coeffs)
    return np.packbits(bits.reshape(-1)).tobytes()


def pdq(image: Any) -> tuple[bytes, int]:
    """256-bit PDQ hash of an RGB ``PIL.Image`` and its quality (0-100, < 50 unreliable)."""
    try:
        import pdqhash
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("PDQ hashing needs the package pdqhash (pip install pdqhash)") from exc
    arr = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    vector, quality = pdqhash.compute(arr)
    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes(), int(quality)


def image_hash(image: Any, algorithm: str) -> bytes:
    """Packed hash of ``image`` under ``algorithm``."""
    if check_algorithm(algorithm) == "pdq":
        return pdq(image)[0]
    return phash(image)


def hamming(matrix: np.ndarray, query: bytes) -> np.ndarray:
    """Hamming distances from ``query`` to each row of a packed (n, bytes) uint8 matrix."""
    q = np.frombuffer(query, dtype=np.uint8)
    if matrix.ndim != 2 or matrix.shape[1] != q.size:
        raise ValueError(f"hash size mismatch: list rows {matrix.shape[1:]}, query {q.size} bytes")
    return np.unpackbits(matrix ^ q, axis=1).sum(axis=1)


def to_hex(packed: bytes) -> str:
    """Lower-case hex of a packed hash."""
    return packed.hex()


def from_hex(text: str) -> tuple[bytes, str]:
    """Parse a hex hash; the length says the algorithm (16 digits pHash, 64 PDQ).

    Raises
    ------
    ValueError
        If ``text`` is not hex or its length matches no algorithm.
    """
    text = text.strip().lower()
    by_len = {bits // 4: alg for alg, bits in HASH_BITS.items()}
    if len(text) not in by_len:
        raise ValueError(
            f"hash {text[:70]!r} has {len(text)} hex digits; expected 16 (phash) or 64 (pdq)"
        )
    try:
        return bytes.fromhex(text), by_len[len(text)]
    except ValueError as exc:
        raise ValueError(f"hash {text[:70]!r} is not hexadecimal") from exc


def crop_grid(image: Any) -> list[Any]:
    """The image and its 35 crop variants (up to 5 % cut per axis, see ``_AXIS_CUTS``)."""
    w, h = image.size
    out = []
    for left, right in _AXIS_CUTS:
        for top, bottom in _AXIS_CUTS:
            box = (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))
            out.append(image if box == (0, 0, w, h) else image.crop(box))
    return out
