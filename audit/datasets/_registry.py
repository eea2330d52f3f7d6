"""Built-in datasets and the one entry point that resolves a dataset spec string."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.datasets._beir import is_beir_folder, load_beir
from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._hf import load_hf
from audit.datasets._manifest import MANIFEST_SUFFIXES, load_manifest
from audit.items import ItemError
from audit.registry import Registry

BUILTIN_ROOT = Path(__file__).parent / "builtin"

#: Built-in dataset folders (BEIR layout, committed under audit/datasets/builtin/).
BUILTINS: Registry[Path] = Registry("built-in dataset")

# Hub repositories whose layout a benchmark loader understands; ``hf:<id>`` uses it.
_HUB_FORMATS: dict[str, str] = {
    "nlphuji/mscoco_2014_5k_test_image_text_retrieval": "mscoco-5k",
    "yerevann/coco-karpathy": "coco-karpathy",
    "lmms-lab/TextCaps": "textcaps",
    "jp1924/AudioCaps": "audiocaps",
    "TwinkStart/AudioCaps": "audiocaps",
    "mteb/DiDeMo": "didemo",
}


def register_builtin(name: str, folder: str | Path) -> Path:
    """Register a BEIR folder as ``builtin:<name>`` (duplicate names are rejected)."""
    return BUILTINS.register(name, Path(folder))


for _name in (
    "emoji-professions",
    "emoji-objects",
    "speech",
    "passages",
    "documents",
    "video",
    "gendered-sentences",
):
    register_builtin(_name, BUILTIN_ROOT / _name)


def list_builtins() -> list[str]:
    """Names of the built-in datasets, sorted."""
    return BUILTINS.names()


def benchmark_builtins() -> list[str]:
    """Names of the built-ins that are retrieval benchmarks (their card counts queries),
    sorted; the others are corpora only (``gendered-sentences``, a debias fit set)."""
    import json

    def queries(name: str) -> int:
        card = json.loads((BUILTINS.get(name) / "card.json").read_text(encoding="utf-8"))
        return int(card.get("size", {}).get("queries", 0))

    return [n for n in BUILTINS.names() if (BUILTINS.get(n) / "card.json").is_file() and queries(n)]


def load_dataset(
    spec: str | Path,
    *,
    split: str = "test",
    columns: Mapping[str, Any] | None = None,
    media_root: str | Path | None = None,
) -> Dataset:
    """Load a dataset from a spec string.

    Parameters
    ----------
    spec : str or pathlib.Path
        ``builtin:<name>`` (see :func:`list_builtins`); a folder (BEIR if it holds
        ``corpus.jsonl``, else a Hugging Face ``save_to_disk`` folder or a folder of
        ``corpus``/``queries``/``qrels`` parts); a ``.csv``/``.tsv``/``.parquet`` file (a
        manifest when it has a ``role`` column, else a Hugging Face parquet table); or
        ``hf:<hub-id>`` (passed to ``datasets.load_dataset``; needs network; known
        benchmark repositories use their format loader).
    split : str
        The qrels split.
    columns : mapping, optional
        Column roles for Hugging Face tables (see :func:`audit.datasets.from_hf`).
    media_root : str or pathlib.Path, optional
        Folder that media paths in a Hugging Face table are relative to.

    Returns
    -------
    Dataset
    """
    text = str(spec)
    if text.startswith("builtin:"):
        return load_beir(BUILTINS.get(text.removeprefix("builtin:")), split=split)
    if text.startswith("hf:"):
        hub_id = text.removeprefix("hf:")
        fmt = _hub_format(hub_id)
        if fmt is not None and columns is None:
            from audit.datasets._benchmarks_av import benchmark_loaders

            return benchmark_loaders()[fmt](hub_id, split=split)
        return load_hf(hub_id, columns, split=split, name=hub_id, media_root=media_root)
    path = Path(text)
    if path.is_dir():
        if is_beir_folder(path):
            return load_beir(path, split=split)
        return load_hf(path, columns, split=split, media_root=media_root)
    if path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        if path.suffix.lower() == ".parquet" and not _has_role_column(path):
            return load_hf(path, columns, split=split, media_root=media_root)
        return load_manifest(path, split=split)
    hint = (
        "use builtin:<name> (one of " + ", ".join(list_builtins()) + "), hf:<hub-id>, "
        "a folder, or a .csv/.tsv/.parquet manifest"
    )
    reason = "no such file or folder" if not path.exists() else "unsupported file type"
    raise DatasetError([ItemError(text, f"{reason}; {hint}")], text)


def _hub_format(hub_id: str) -> str | None:
    if hub_id in _HUB_FORMATS:
        return _HUB_FORMATS[hub_id]
    if hub_id.startswith("vidore/"):
        return "vidore"
    return None


def _has_role_column(path: Path) -> bool:
    import pyarrow.parquet as pq

    return "role" in pq.read_schema(path).names


def builtin_path(name: str) -> Path:
    """Folder of a built-in dataset (unknown names get close-match suggestions)."""
    return BUILTINS.get(name)
