"""Hugging Face ``datasets`` sources: ``load_from_disk`` folders, parquet files, hub ids.

Two shapes are understood:

* a *paired table*: each row holds one corpus item (a media or text column) and zero or
  more text queries about it (a caption column, a list of captions); rows that share a
  corpus id are one item (e.g. AudioCaps has one row per caption);
* a *BEIR table set*: ``corpus``, ``queries`` and ``qrels`` tables (MTEB and ViDoRe
  publish retrieval sets this way, as configs of one hub repository).

Media columns are read from their stored form (inline bytes) without decoding, so no
audio or video decoder is needed to load a dataset.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.datasets._build import PairBuilder, media_content, plain, texts_of
from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._hf_beir import beir_parts, from_hf_beir
from audit.datasets._hf_io import (
    datasets_module,
    feature_modality,
    is_saved_dataset,
    open_hf,
    pick_split,
    rows,
    with_name,
)
from audit.items import ItemError

CONTENT_ROLES = ("text", "image", "audio", "video", "document")
ROLES = ("id", *CONTENT_ROLES, "query", "query_id", "title", "attributes")
_ID_NAMES = ("_id", "id", "corpus-id", "corpus_id", "doc_id", "image_id", "img_id", "video_id")
_TEXT_NAMES = ("text", "passage", "content", "body", "document")
_QUERY_NAMES = ("query", "queries", "caption", "captions", "sentences", "question")


def infer_columns(features: Mapping[str, Any]) -> dict[str, Any]:
    """Guess a column mapping for a paired table from its features.

    The corpus content is the first media column (Image, Audio, Video, Pdf), else a
    text column named like ``text``; the id is a column named like ``_id``/``id``; the
    queries a column named like ``query``/``caption(s)``/``sentences``.

    Raises
    ------
    DatasetError
        When no content column can be found (then pass ``columns=`` explicitly).
    """
    columns: dict[str, Any] = {}
    for name, feature in features.items():
        modality = feature_modality(feature)
        if modality and modality != "text":
            columns[modality] = name
            break
    else:
        text = next((n for n in _TEXT_NAMES if n in features), None)
        if text is None:
            raise DatasetError(
                [
                    ItemError(
                        "columns",
                        f"cannot tell which column holds the corpus among {list(features)}; "
                        "pass columns={'id': ..., 'image'|'text'|...: ..., 'query': ...}",
                    )
                ]
            )
        columns["text"] = text
        if "title" in features:
            columns["title"] = "title"
    identifier = next((n for n in _ID_NAMES if n in features), None)
    if identifier:
        columns["id"] = identifier
    query = next((n for n in _QUERY_NAMES if n in features and n not in columns.values()), None)
    if query:
        columns["query"] = query
    return columns


def check_columns(columns: Mapping[str, Any], available: Sequence[str]) -> list[ItemError]:
    """Problems with a column mapping: unknown roles (with suggestions), missing columns,
    not exactly one content role."""
    errors: list[ItemError] = []
    for role, value in columns.items():
        if role not in ROLES:
            close = difflib.get_close_matches(role, ROLES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append(ItemError("columns", f"unknown role {role!r}{hint} (roles: {ROLES})"))
            continue
        names = [value] if isinstance(value, str) else list(value)
        errors.extend(
            ItemError("columns", f"{role}: no column {n!r} (columns: {list(available)})")
            for n in names
            if n not in available
        )
    content = [r for r in CONTENT_ROLES if r in columns]
    if len(content) != 1:
        errors.append(
            ItemError(
                "columns", f"give exactly one content column among {CONTENT_ROLES}, got {content}"
            )
        )
    return errors


def from_hf(
    table: Any,
    columns: Mapping[str, Any] | None = None,
    *,
    name: str = "hf",
    split: str = "test",
    card: Mapping[str, Any] | None = None,
    media_root: str | Path | None = None,
) -> Dataset:
    """A paired ``datasets.Dataset`` to a :class:`Dataset`.

    Parameters
    ----------
    table : datasets.Dataset
        One row per corpus item, or per (item, caption) pair.
    columns : mapping, optional
        Roles to column names: ``id``; one content role of ``text``, ``image``,
        ``audio``, ``video``, ``document`` (the role is the corpus modality); ``query``
        (a text or list-of-text column, each text one query judged relevant to the
        row's item); ``query_id``; ``title``; ``attributes`` (a list of columns kept as
        item attributes). Inferred with :func:`infer_columns` when omitted.
    name, split : str
        Dataset name and split label.
    card : mapping, optional
        Dataset card (provenance, license, ...).
    media_root : str or pathlib.Path, optional
        Folder that media paths in the table are relative to; paths are refused without
        it and must stay inside it.

    Returns
    -------
    Dataset
    """
    columns = dict(columns) if columns is not None else infer_columns(table.features)
    errors = check_columns(columns, list(table.column_names))
    if errors:
        raise DatasetError(errors, name)
    content_role = next(r for r in CONTENT_ROLES if r in columns)
    content_col = columns[content_role]
    attr_cols = (
        [columns["attributes"]]
        if isinstance(columns.get("attributes"), str)
        else list(columns.get("attributes", []))
    )
    root = Path(media_root) if media_root is not None else None
    builder = PairBuilder(name)
    for index, row in enumerate(rows(table)):
        where = f"row {index}"
        corpus_id = str(plain(row[columns["id"]])) if "id" in columns else str(index)
        if corpus_id not in builder.corpus:
            attributes = {c: plain(row[c]) for c in attr_cols}
            if content_role == "text":
                text = row[content_col]
                title = row.get(columns["title"]) if "title" in columns else None
                if title:
                    attributes["title"] = title
                content: Any = " ".join(
                    t for t in (title, text) if isinstance(t, str) and t.strip()
                )
                if not content:
                    builder.error(where, f"empty text in column {content_col!r}")
                    continue
            else:
                content = media_content(row[content_col], where, builder, root)
                if content is None:
                    continue
            builder.add_corpus(corpus_id, content_role, content, attributes)
        if "query" in columns:
            texts = texts_of(row[columns["query"]])
            ids = texts_of(row[columns["query_id"]]) if "query_id" in columns else []
            if ids and len(ids) != len(texts):
                builder.error(where, f"{len(ids)} query ids for {len(texts)} queries")
                continue
            for k, text in enumerate(texts):
                builder.add_query(text, corpus_id, query_id=ids[k] if ids else None)
    return builder.build(split=split, root=root, card=with_name(card, name))


def load_hf(
    source: Any,
    columns: Mapping[str, Any] | None = None,
    *,
    split: str = "test",
    config: str | None = None,
    name: str | None = None,
    card: Mapping[str, Any] | None = None,
    media_root: str | Path | None = None,
) -> Dataset:
    """Load a Hugging Face dataset (object, ``save_to_disk`` folder, parquet, hub id).

    A ``DatasetDict`` (or a folder of sub-datasets) with ``corpus`` and ``queries`` parts
    is read as a BEIR table set (see :func:`from_hf_beir`); anything else as a paired
    table (see :func:`from_hf`).
    """
    label = name or (Path(str(source)).name if isinstance(source, str | Path) else "hf")
    parts: Any = None
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir() and not is_saved_dataset(path) and (path / "corpus").exists():
            parts = source  # a folder of corpus/queries/qrels parts
    if parts is None:
        obj = open_hf(source, split=split, config=config)
        if isinstance(obj, datasets_module().DatasetDict) and {"corpus", "queries"} <= set(obj):
            parts = dict(obj)
    if parts is not None:
        return from_hf_beir(
            *beir_parts(parts, split=split, qrels_configs=("qrels", "default")),
            name=label,
            split=split,
            card=card,
            media_root=media_root,
        )
    table = pick_split(obj, split, label)
    return from_hf(table, columns, name=label, split=split, card=card, media_root=media_root)
