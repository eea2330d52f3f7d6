"""What a report needs for someone to reproduce it: the ``reproducibility`` block.

Vectors are a function of the items, the embedder's fingerprint (weights and every
output-changing parameter, pinned thread counts included) and the numeric libraries and
CPU they ran on; results add the suites' settings and the seed. This block records all of
them as they were in the auditing process, so a re-run can be checked against it. See
docs/scale.md ("Identical results") for which numbers are bitwise reproducible.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.datasets import Dataset

#: Distributions whose versions can change a number (kernels, decoders, search, stats).
NUMERIC_PACKAGES = (
    "numpy",
    "scipy",
    "torch",
    "sentence-transformers",
    "transformers",
    "tokenizers",
    "faster-whisper",
    "ctranslate2",
    "onnxruntime",
    "av",
    "pypdfium2",
    "pillow",
    "faiss-cpu",
    "scikit-learn",
    "ray",
)
#: Environment variables that set thread counts of the runtimes above.
THREAD_ENV = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "CT2_FORCE_CPU_ISA",
    "CT2_USE_EXPERIMENTAL_PACKED_GEMM",
)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def thread_settings() -> dict[str, Any]:
    """Thread counts of this process's numeric runtimes and the variables that set them.

    Torch is read only if the run imported it (importing it here would cost seconds).
    The ``local`` embedder pins its own counts while it embeds (see its ``params``); these
    are the process-wide ones everything else (search, statistics) ran with.
    """
    out: dict[str, Any] = {"cpu_count": os.cpu_count()}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        out["torch_intra_op"] = int(torch.get_num_threads())
        out["torch_inter_op"] = int(torch.get_num_interop_threads())
    try:
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
    except Exception:  # threadpoolctl missing or a library it cannot query: record why
        pools = []
        out["threadpools_error"] = "threadpoolctl could not read the thread pools"
    out["threadpools"] = [
        {
            "api": p.get("user_api"),
            "library": p.get("internal_api"),
            "file": p.get("prefix"),  # which copy (numpy's, scipy's, ...); not its path
            "version": p.get("version"),
            "threads": p.get("num_threads"),
            "architecture": p.get("architecture"),  # OpenBLAS kernel: part of the rounding
        }
        for p in pools
    ]
    out["env"] = {k: os.environ[k] for k in THREAD_ENV if k in os.environ}
    return out


#: Names the rule :func:`dataset_sha256` follows (stored with each hash, so a later rule can
#: be told apart from this one). docs/report-schema.md, "reproducibility.datasets".
DATASET_HASH_RULE = "mme-audit dataset sha256 v1"


def _line(fields: list[Any]) -> bytes:
    # One JSON array per line: ids and attributes may hold tabs or newlines, JSON escapes them.
    text = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return text.encode("utf-8") + b"\n"


def dataset_sha256(dataset: Dataset) -> str:
    """SHA-256 of a dataset's content, independent of where its files lie.

    The canonical form is UTF-8 lines, each a compact JSON array (keys sorted, non-ASCII
    kept): first ``["corpus", id, modality, content_sha256, attributes]`` for each corpus
    item in id order, then the same with ``"queries"`` for each query, then
    ``["qrels", query_id, corpus_id, grade]`` in (query id, corpus id) order.
    ``content_sha256`` is the SHA-256 of the item's bytes (UTF-8 text, or the media file's
    bytes: :meth:`audit.items.Item.content_sha256`, the content half of the cache key).
    Group labels and judgements change results, so they are part of the content; file
    paths are not.

    Parameters
    ----------
    dataset : Dataset
        The dataset as the run used it.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256()
    for side, items in (("corpus", dataset.corpus), ("queries", dataset.queries)):
        for item in sorted(items, key=lambda it: it.id):
            attrs = dict(item.attributes)
            h.update(_line([side, item.id, item.modality, item.content_sha256(), attrs]))
    for qid in sorted(dataset.qrels):
        for cid, grade in sorted(dataset.qrels[qid].items()):
            h.update(_line(["qrels", qid, cid, grade]))
    return h.hexdigest()


def dataset_record(spec: str, dataset: Dataset, *, items_skipped: int = 0) -> dict[str, Any]:
    """One entry of ``reproducibility.datasets`` (JSON-ready).

    Parameters
    ----------
    spec : str
        The spec the run loaded it by (``builtin:NAME``, a path, ``hf:...``).
    dataset : Dataset
        The dataset as the run used it (after ``--skip-bad-items`` left items out).
    items_skipped : int
        Items left out of it (listed in the report's ``skipped_items``).

    Returns
    -------
    dict
        ``spec``, ``name``, ``split``, ``card`` (the dataset's card: source, licence, ...),
        ``counts`` (:meth:`Dataset.describe`), ``sha256`` (:func:`dataset_sha256`),
        ``hash_rule`` and ``items_skipped``.
    """
    # A card is free-form: round-trip it through JSON so report.json can always hold it.
    card = json.loads(json.dumps(dataset.card, default=str))
    return {
        "spec": spec,
        "name": dataset.name,
        "split": dataset.split,
        "card": card,
        "counts": json.loads(json.dumps(dataset.describe(), default=str)),
        "sha256": dataset_sha256(dataset),
        "hash_rule": DATASET_HASH_RULE,
        "items_skipped": items_skipped,
    }


def reproducibility_info(
    *,
    tool_version: str,
    fingerprint: str | None,
    engine: str,
    engine_options: dict[str, Any] | None,
    seed: int,
    datasets: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The report's ``reproducibility`` block (JSON-ready).

    Parameters
    ----------
    tool_version : str
        mme-audit's version.
    fingerprint : str or None
        The backend's fingerprint (the cache and shard key); None if it was never built.
    engine : str
        ``inprocess`` or ``ray``.
    engine_options : dict or None
        The engine's options (CPUs per actor, shard size, ...).
    seed : int
        The run's seed (bootstrap, permutations, sampling).
    datasets : sequence of dict
        One :func:`dataset_record` per dataset the run loaded, in load order
        (:meth:`audit.preflight.RunDatasets.records`).
    """
    return {
        "tool_version": tool_version,
        "embedder_fingerprint": fingerprint,
        "engine": engine,
        "engine_options": dict(engine_options or {}),
        "seed": seed,
        "datasets": [dict(d) for d in datasets],
        "threads": thread_settings(),
        "platform": {
            "python": platform.python_version(),
            "system": platform.system(),
            "machine": platform.machine(),
            "processor": platform.processor(),
        },
        "packages": {d: v for d in NUMERIC_PACKAGES if (v := _version(d)) is not None},
    }
