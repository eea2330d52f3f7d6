"""Datasets: BEIR folders, Hugging Face tables, manifests, benchmark formats, built-ins.

Every loader returns a :class:`Dataset` (corpus items, queries, graded qrels, a card)
and reports all problems of a source at once in one :class:`DatasetError`.

>>> from audit.datasets import load_dataset
>>> ds = load_dataset("builtin:emoji-professions")  # doctest: +SKIP
>>> ds.modality_pair  # doctest: +SKIP
'text->image'
"""

from audit.datasets._beir import load_beir, write_beir
from audit.datasets._benchmarks_av import activitynet_captions, audiocaps, didemo
from audit.datasets._benchmarks_image import (
    coco_karpathy,
    mscoco_5k,
    mteb_retrieval,
    textcaps,
    vidore,
)
from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._hf import from_hf, infer_columns, load_hf
from audit.datasets._hf_beir import from_hf_beir
from audit.datasets._manifest import load_manifest
from audit.datasets._paths import UnsafePathError, resolve_inside
from audit.datasets._registry import (
    BUILTINS,
    benchmark_builtins,
    builtin_path,
    list_builtins,
    load_dataset,
    register_builtin,
)

__all__ = [
    "BUILTINS",
    "Dataset",
    "DatasetError",
    "UnsafePathError",
    "activitynet_captions",
    "audiocaps",
    "benchmark_builtins",
    "builtin_path",
    "coco_karpathy",
    "didemo",
    "from_hf",
    "from_hf_beir",
    "infer_columns",
    "list_builtins",
    "load_beir",
    "load_dataset",
    "load_hf",
    "load_manifest",
    "mscoco_5k",
    "mteb_retrieval",
    "register_builtin",
    "resolve_inside",
    "textcaps",
    "vidore",
    "write_beir",
]
