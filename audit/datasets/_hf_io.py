"""Opening Hugging Face sources and reading their rows without decoding media."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.datasets._dataset import DatasetError
from audit.items import ItemError

log = logging.getLogger(__name__)

_FEATURE_MODALITY = {"Image": "image", "Audio": "audio", "Video": "video", "Pdf": "document"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def datasets_module() -> Any:
    import datasets  # heavy import, only when a Hugging Face source is used

    return datasets


# -- opening sources ----------------------------------------------------------------------


def open_hf(source: Any, *, split: str = "test", config: str | None = None) -> Any:
    """A ``datasets.Dataset`` or ``DatasetDict`` from an object, a local path or a hub id.

    Parameters
    ----------
    source : datasets.Dataset, datasets.DatasetDict, str or pathlib.Path
        An object is returned as is. A folder written by ``save_to_disk`` is loaded
        with ``load_from_disk``; a ``.parquet`` file or a folder of them is read in
        memory. Any other string that looks like ``owner/name`` is passed unchanged to
        ``datasets.load_dataset`` (this needs network access to the hub).
    split : str
        Split asked of ``load_dataset`` for hub ids.
    config : str, optional
        Hub configuration name (e.g. ``"corpus"``).
    """
    ds = datasets_module()
    if isinstance(source, ds.Dataset | ds.DatasetDict):
        return source
    path = Path(source)
    if path.exists():
        if path.is_dir() and is_saved_dataset(path):
            return ds.load_from_disk(str(path))
        files = _parquet_files(path)
        if files:
            return _read_parquet(files)
        raise DatasetError(
            [ItemError(str(path), "neither a save_to_disk folder nor parquet file(s)")], str(path)
        )
    text = str(source)
    if not _HUB_ID.match(text):
        raise DatasetError([ItemError(text, "no such file or folder")], text)
    log.info("loading %s (config %s, split %s) from the Hugging Face hub", text, config, split)
    return ds.load_dataset(text, config, split=split)


def pick_split(obj: Any, split: str, label: str) -> Any:
    """One split of a ``DatasetDict`` (or the dataset itself), with a clear error."""
    ds = datasets_module()
    if isinstance(obj, ds.DatasetDict):
        if split not in obj:
            raise DatasetError(
                [ItemError(label, f"no split {split!r} (splits: {', '.join(obj)})")], label
            )
        return obj[split]
    return obj


def is_saved_dataset(path: Path) -> bool:
    return any(
        (path / f).is_file() for f in ("dataset_info.json", "state.json", "dataset_dict.json")
    )


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix == ".parquet" else []
    return sorted(path.rglob("*.parquet"))


def _read_parquet(files: Sequence[Path]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(f) for f in files])
    # datasets reads its feature types (Image, Audio, ...) back from the schema metadata
    return datasets_module().Dataset(table)


def rows(table: Any, batch_size: int = 256) -> Iterator[dict[str, Any]]:
    """Rows as plain dicts, media columns in their stored form (no decoding)."""
    arrow = table.with_format("arrow")
    for batch in arrow.iter(batch_size=batch_size):
        yield from batch.to_pylist()


def feature_modality(feature: Any) -> str | None:
    """``image``/``audio``/``video``/``document`` for a media feature, ``text`` for a
    string value, ``None`` otherwise."""
    kind = type(feature).__name__
    if kind in _FEATURE_MODALITY:
        return _FEATURE_MODALITY[kind]
    if kind == "Value" and getattr(feature, "dtype", "") in ("string", "large_string"):
        return "text"
    return None


# -- paired tables ------------------------------------------------------------------------


def with_name(card: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """A copy of ``card`` with ``name`` set when it has none."""
    out = dict(card or {})
    out.setdefault("name", name)
    return out
