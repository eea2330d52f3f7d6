"""CSV / TSV / Parquet manifests: one row per item, corpus and queries in one table.

Columns:

``id`` (required), ``role`` (required: ``corpus`` or ``query``), ``modality`` (default
``text``), ``text`` (text items) or ``path`` (other items, relative to the manifest's
folder and kept inside it), ``title`` (optional), attributes as ``attr_<name>`` columns
and/or an ``attributes`` column holding a JSON object, and optionally ``relevant`` on
query rows: corpus ids separated by ``;`` (grade 1), or JSON (``["d1", "d2"]`` or
``{"d1": 2}``).

Judgements come from, in order: the ``qrels=`` file given by the caller (columns
``query-id``, ``corpus-id``, optional ``score``), the ``relevant`` column, or a file next
to the manifest named ``<stem>.qrels.tsv`` (or ``.csv``/``.parquet``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from audit.datasets._beir import parse_record
from audit.datasets._dataset import Dataset, DatasetError, as_grade
from audit.items import Item, ItemError

MANIFEST_SUFFIXES = (".csv", ".tsv", ".parquet")
_QRELS_SUFFIXES = (".tsv", ".csv", ".parquet")


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest file by suffix (CSV, TSV or Parquet)."""
    return path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES


def load_manifest(
    path: str | Path,
    *,
    qrels: str | Path | None = None,
    split: str = "test",
    name: str | None = None,
) -> Dataset:
    """Load a CSV/TSV/Parquet manifest.

    Parameters
    ----------
    path : str or pathlib.Path
        The manifest file.
    qrels : str or pathlib.Path, optional
        A judgements table (CSV/TSV/Parquet with ``query-id``, ``corpus-id``,
        ``score``); overrides the ``relevant`` column.
    split : str
        Split label of the result.
    name : str, optional
        Dataset name (default: the file stem).

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        Listing every bad row, with ``file:line`` for CSV/TSV.
    """
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise DatasetError([ItemError(label, "file is missing")], label)
    errors: list[ItemError] = []
    table = _read_table(path, errors)
    if table is None:
        raise DatasetError(errors, label)
    missing = [c for c in ("id", "role") if c not in table.columns]
    if missing:
        errors.append(
            ItemError(path.name, f"missing column(s) {missing} (columns: {list(table.columns)})")
        )
        raise DatasetError(errors, label)
    root = path.parent
    corpus: list[Item] = []
    queries: list[Item] = []
    relevant: dict[str, dict[str, int]] = {}
    for where, row in _rows(table, path):
        role = str(row.get("role", "")).strip().lower()
        if role not in ("corpus", "query"):
            errors.append(ItemError(where, f"role must be 'corpus' or 'query', not {role!r}"))
            continue
        record = _record(row, where, errors)
        if record is None:
            continue
        item = parse_record(record, root, where, errors)
        if item is None:
            continue
        (corpus if role == "corpus" else queries).append(item)
        cell = _cell(row.get("relevant"))
        if role == "query" and cell is not None:
            judged = _parse_relevant(cell, where, errors)
            if judged:
                relevant[item.id] = judged
    judgements = _judgements(path, qrels, relevant, bool(queries), errors)
    if errors:
        raise DatasetError(errors, label)
    return Dataset(
        name=name or path.stem,
        root=root,
        corpus=corpus,
        queries=queries,
        qrels=judgements,
        card={"name": name or path.stem, "source": path.name},
        split=split,
    )


def _read_table(path: Path, errors: list[ItemError]) -> Any:
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        bad = _bad_utf8_lines(path)
        if bad:
            errors.extend(ItemError(f"{path.name}:{n}", "invalid UTF-8") for n in bad)
            return None
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, ValueError) as exc:
        errors.append(ItemError(path.name, f"cannot read: {exc}"))
        return None


def _bad_utf8_lines(path: Path) -> list[int]:
    bad = []
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(lineno)
    return bad


def _rows(table: Any, path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    csv_like = path.suffix.lower() != ".parquet"
    for index, row in enumerate(table.to_dict(orient="records")):
        # CSV line numbers count the header line (1-based); parquet has rows, not lines
        where = f"{path.name}:{index + 2}" if csv_like else f"{path.name}:row {index}"
        yield where, row


def _cell(value: Any) -> Any:
    """``None`` for empty cells (``""`` in CSV, ``None``/NaN in Parquet)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _record(row: dict[str, Any], where: str, errors: list[ItemError]) -> dict[str, Any] | None:
    record: dict[str, Any] = {"_id": _cell(row.get("id"))}
    for key in ("modality", "text", "path", "title"):
        value = _cell(row.get(key))
        if value is not None:
            record[key] = str(value)
    attributes: dict[str, Any] = {}
    raw = _cell(row.get("attributes"))
    if raw is not None:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(ItemError(where, f"'attributes' is not valid JSON ({exc.msg})"))
                return None
        if not isinstance(raw, dict):
            errors.append(ItemError(where, "'attributes' must be a JSON object"))
            return None
        attributes.update(raw)
    for key, value in row.items():
        if str(key).startswith("attr_") and _cell(value) is not None:
            attributes[str(key)[5:]] = value.item() if hasattr(value, "item") else value
    if attributes:
        record["attributes"] = attributes
    return record


def _parse_relevant(cell: Any, where: str, errors: list[ItemError]) -> dict[str, int]:
    text = str(cell).strip()
    try:
        if text[:1] in "[{":
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return {str(c): 1 for c in parsed}
            return {str(c): as_grade(g) for c, g in parsed.items()}
        return {c.strip(): 1 for c in text.split(";") if c.strip()}
    except (json.JSONDecodeError, ValueError, AttributeError) as exc:
        errors.append(ItemError(where, f"cannot read 'relevant' {text!r}: {exc}"))
        return {}


def _judgements(
    path: Path,
    qrels: str | Path | None,
    relevant: dict[str, dict[str, int]],
    has_queries: bool,
    errors: list[ItemError],
) -> dict[str, dict[str, int]]:
    if qrels is None:
        if relevant:
            return relevant
        qrels = next(
            (
                path.with_name(f"{path.stem}.qrels{s}")
                for s in _QRELS_SUFFIXES
                if path.with_name(f"{path.stem}.qrels{s}").is_file()
            ),
            None,
        )
        if qrels is None:
            if has_queries:
                errors.append(
                    ItemError(
                        path.name,
                        "queries have no judgements: add a 'relevant' column, pass qrels=, "
                        f"or put {path.stem}.qrels.tsv next to the manifest",
                    )
                )
            return {}
    return read_qrels_table(Path(qrels), errors)


def read_qrels_table(path: Path, errors: list[ItemError]) -> dict[str, dict[str, int]]:
    """Judgements from a CSV/TSV/Parquet table (``query-id``, ``corpus-id``, ``score``)."""
    table = _read_table(path, errors) if path.is_file() else None
    if table is None:
        if not path.is_file():
            errors.append(ItemError(str(path), "qrels file is missing"))
        return {}
    qcol = next((c for c in ("query-id", "query_id", "qid") if c in table.columns), None)
    ccol = next((c for c in ("corpus-id", "corpus_id", "docid") if c in table.columns), None)
    if qcol is None or ccol is None:
        errors.append(
            ItemError(
                path.name, f"needs query-id and corpus-id columns (got {list(table.columns)})"
            )
        )
        return {}
    out: dict[str, dict[str, int]] = {}
    for where, row in _rows(table, path):
        try:
            grade = as_grade(row["score"]) if _cell(row.get("score")) is not None else 1
        except ValueError as exc:
            errors.append(ItemError(where, str(exc)))
            continue
        out.setdefault(str(row[qcol]), {})[str(row[ccol])] = grade
    return out
