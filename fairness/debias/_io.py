"""Pickle-free persistence: arrays in .npz or .safetensors plus a JSON metadata blob.

The metadata records the class name, its parameters, the JSON part of the fitted state,
the library and format versions and the sha256 of the arrays. Loading recomputes the
digest and refuses a file whose arrays do not match it. The digest sits in the same file,
so it catches corruption and careless edits, not a forger who rewrites both: pin the
digest you trust and pass it as ``expected_sha256`` for that.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "arrays_sha256", "read_file", "write_file"]

logger = logging.getLogger(__name__)

FORMAT_NAME = "mme-audit-debiaser"
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"  # npz member holding the UTF-8 JSON metadata
_SAFETENSORS_KEY = "mme_audit"  # key of the JSON blob in the safetensors header
_SUFFIXES = (".npz", ".safetensors")
#: What a debiaser file must be, for error messages about one that is not.
EXPECTED = (
    "expected a .npz or .safetensors file written by `audit fit-debias` (or a debiaser's "
    f"save()): arrays plus the {FORMAT_NAME} JSON metadata"
)


def _library_version() -> str | None:
    try:
        return importlib_metadata.version("mme-audit")
    except importlib_metadata.PackageNotFoundError:
        return None


def _canonical(arr: np.ndarray) -> np.ndarray:
    """C-contiguous, little-endian copy of ``arr`` (what is stored and hashed)."""
    arr = np.asarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return np.ascontiguousarray(arr)


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """Return the sha256 (hex) of named arrays: names, dtypes, shapes and bytes, by name.

    Parameters
    ----------
    arrays : dict of str to ndarray
        The arrays of a saved debiaser.

    Returns
    -------
    str
        Hex digest, independent of the container format (.npz or .safetensors).
    """
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = _canonical(arrays[name])
        h.update(name.encode("utf-8") + b"\0")
        h.update(arr.dtype.str.encode("ascii") + b"\0")
        h.update(json.dumps(list(arr.shape)).encode("ascii") + b"\0")
        h.update(arr.tobytes())
    return h.hexdigest()


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(
            f"{path}: unsupported file type {suffix!r}; use one of {', '.join(_SUFFIXES)}"
        )
    return suffix


def write_file(
    path: str | os.PathLike[str],
    *,
    class_name: str,
    params: dict[str, Any],
    state: dict[str, Any],
    arrays: dict[str, np.ndarray],
) -> Path:
    """Write arrays and metadata to ``path`` (.npz or .safetensors) atomically.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    suffix = _check_suffix(path)
    if _METADATA_KEY in arrays:
        raise ValueError(f"array name {_METADATA_KEY!r} is reserved")
    arrays = {name: _canonical(arr) for name, arr in arrays.items()}
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "class": class_name,
        "params": params,
        "state": state,
        "library_version": _library_version(),
        "numpy_version": np.__version__,
        "arrays_sha256": arrays_sha256(arrays),
    }
    blob = json.dumps(meta, sort_keys=True, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        if suffix == ".npz":
            with open(tmp_name, "wb") as fh:
                member = np.frombuffer(blob.encode("utf-8"), dtype=np.uint8)
                np.savez(fh, **arrays, **{_METADATA_KEY: member})
        else:
            from safetensors.numpy import save_file

            save_file(arrays, tmp_name, metadata={_SAFETENSORS_KEY: blob})
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    logger.info("saved %s to %s (sha256 %s)", class_name, path, meta["arrays_sha256"])
    return path


def read_file(
    path: str | os.PathLike[str], *, expected_sha256: str | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and verify a file written by :func:`write_file`.

    Parameters
    ----------
    path : str or PathLike
        A .npz or .safetensors file.
    expected_sha256 : str, optional
        A digest pinned by the caller; the file's arrays must hash to it.

    Returns
    -------
    (dict, dict of str to ndarray)
        The metadata and the arrays.

    Raises
    ------
    ValueError
        If the file is not a debiaser file, was written by a newer format, or its arrays
        do not match the recorded (or expected) digest.
    """
    path = Path(path)
    suffix = _check_suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            raw = arrays.pop(_METADATA_KEY, None)
            blob = None if raw is None else raw.tobytes().decode("utf-8")
        else:
            from safetensors import safe_open

            with safe_open(str(path), framework="np") as fh:
                blob = (fh.metadata() or {}).get(_SAFETENSORS_KEY)
                arrays = {k: fh.get_tensor(k) for k in fh.keys()}
    except Exception as exc:  # zipfile, numpy and safetensors each raise their own types
        # numpy's text for pickled data advises loading it "unsafely" with allow_pickle:
        # never relay that advice; say what the file should be instead.
        why = "it holds pickled data, which is never loaded" if "pickle" in str(exc) else exc
        msg = f"{path}: not a readable {suffix} debiaser file ({why}); {EXPECTED}"
        raise ValueError(msg) from exc
    if blob is None:
        raise ValueError(f"{path}: no mme-audit metadata found; not a saved debiaser; {EXPECTED}")
    try:
        meta = json.loads(blob)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ValueError(f"{path}: metadata does not describe a {FORMAT_NAME} file")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path}: format_version {version!r} is not supported (this library reads "
            f"up to {FORMAT_VERSION})"
        )
    digest = arrays_sha256(arrays)
    if digest != meta.get("arrays_sha256"):
        raise ValueError(
            f"{path}: the arrays' sha256 {digest} does not match the recorded "
            f"{meta.get('arrays_sha256')}; the file is corrupted or was modified"
        )
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise ValueError(
            f"{path}: the arrays' sha256 {digest} does not match expected_sha256 {expected_sha256}"
        )
    return meta, arrays
