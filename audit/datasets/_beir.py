"""BEIR-style dataset folders: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

Record fields (one JSON object per line)::

    {"_id": "d1", "modality": "image", "path": "media/d1.png",
     "title": "optional", "attributes": {"gender": "woman"}}

``_id`` (or ``id``) is required; ``modality`` defaults to ``text``; text items carry
``text`` (a non-empty ``title`` is prepended with a space, as BEIR's and MTEB's
evaluators do, and kept in ``attributes["title"]``); other items carry ``path``, relative
to the dataset folder. A BEIR ``metadata`` object is merged into the attributes.

Loading reports every problem of every file at once (missing files, invalid UTF-8 or
JSON with ``file:line``, unsafe paths, missing media, qrels naming unknown ids) in one
:class:`DatasetError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from audit.datasets._dataset import Dataset, DatasetError, as_grade, keep_judged_queries
from audit.datasets._paths import UnsafePathError, resolve_inside
from audit.items import MODALITIES, Item, ItemError

log = logging.getLogger(__name__)

CORPUS_FILE = "corpus.jsonl"
QUERIES_FILE = "queries.jsonl"
QRELS_DIR = "qrels"
CARD_FILE = "card.json"
_KNOWN_FIELDS = {"_id", "id", "modality", "text", "path", "title", "attributes", "metadata"}


def is_beir_folder(path: Path) -> bool:
    """Whether ``path`` looks like a BEIR folder (has ``corpus.jsonl``)."""
    return path.is_dir() and (path / CORPUS_FILE).is_file()


def load_beir(root: str | Path, *, split: str = "test", name: str | None = None) -> Dataset:
    """Load a BEIR-style folder.

    Parameters
    ----------
    root : str or pathlib.Path
        The folder holding ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/``.
    split : str
        Which ``qrels/<split>.tsv`` to use. Queries without judgements in this split
        are left out (BEIR keeps the queries of every split in one file).
    name : str, optional
        Dataset name; defaults to the card's ``name`` or the folder name.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        Listing every problem found in every file.
    """
    root = Path(root)
    label = str(root)
    if not root.is_dir():
        raise DatasetError([ItemError(str(root), "not a folder")], label)
    errors: list[ItemError] = []
    qrels_path = root / QRELS_DIR / f"{split}.tsv"
    for path in (root / CORPUS_FILE, root / QUERIES_FILE, qrels_path):
        if not path.is_file():
            errors.append(ItemError(_rel(root, path), _missing_reason(root, path, split)))
    card = _read_card(root, errors)
    corpus = _read_items(root, root / CORPUS_FILE, errors)
    queries = _read_items(root, root / QUERIES_FILE, errors)
    qrels = _read_qrels(root, qrels_path, {i.id for i in corpus}, {q.id for q in queries}, errors)
    if errors:
        raise DatasetError(errors, label)
    queries = keep_judged_queries(queries, qrels, label)
    name = name or str(card.get("name") or root.name)
    card.setdefault("name", name)
    return Dataset(
        name=name, root=root, corpus=corpus, queries=queries, qrels=qrels, card=card, split=split
    )


def write_beir(dataset: Dataset, root: str | Path) -> Path:
    """Write ``dataset`` as a BEIR folder under ``root`` (media must already lie inside it).

    Items whose content is a path are written with that path relative to ``root``;
    inline ``bytes`` content cannot be written (save it to a file first).

    Returns
    -------
    pathlib.Path
        ``root``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    errors: list[ItemError] = []
    corpus_lines = [_record_line(item, root, errors) for item in dataset.corpus]
    query_lines = [_record_line(item, root, errors) for item in dataset.queries]
    if errors:
        raise DatasetError(errors, dataset.name)
    (root / CORPUS_FILE).write_text("".join(corpus_lines), encoding="utf-8")
    (root / QUERIES_FILE).write_text("".join(query_lines), encoding="utf-8")
    (root / QRELS_DIR).mkdir(exist_ok=True)
    rows = ["query-id\tcorpus-id\tscore\n"]
    for qid, judged in dataset.qrels.items():
        rows.extend(f"{qid}\t{cid}\t{grade}\n" for cid, grade in judged.items())
    (root / QRELS_DIR / f"{dataset.split}.tsv").write_text("".join(rows), encoding="utf-8")
    if dataset.card:
        text = json.dumps(dataset.card, indent=2, ensure_ascii=False, sort_keys=True)
        (root / CARD_FILE).write_text(text + "\n", encoding="utf-8")
    return root


# -- reading ------------------------------------------------------------------------------


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _missing_reason(root: Path, path: Path, split: str) -> str:
    if path.parent.name == QRELS_DIR:
        others = sorted(p.stem for p in (root / QRELS_DIR).glob("*.tsv"))
        if others:
            return f"missing qrels for split {split!r} (splits present: {', '.join(others)})"
    if path.exists():
        return "not a regular file"
    return "file is missing"


def _lines(path: Path, errors: list[ItemError], root: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text)``; undecodable lines become errors, not exceptions."""
    if not path.is_file():
        return
    try:
        fh = open(path, "rb")
    except OSError as exc:
        errors.append(ItemError(_rel(root, path), f"cannot read: {exc.strerror}"))
        return
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                errors.append(
                    ItemError(
                        f"{_rel(root, path)}:{lineno}",
                        f"invalid UTF-8 at byte {exc.start} of the line",
                    )
                )
                continue
            text = text.strip().lstrip("\ufeff")
            if text:
                yield lineno, text


def _read_card(root: Path, errors: list[ItemError]) -> dict[str, Any]:
    path = root / CARD_FILE
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        errors.append(ItemError(CARD_FILE, f"unreadable card: {exc}"))
        return {}
    if not isinstance(card, dict):
        errors.append(ItemError(CARD_FILE, "card must be a JSON object"))
        return {}
    return card


def _read_items(root: Path, path: Path, errors: list[ItemError]) -> list[Item]:
    items: list[Item] = []
    seen: dict[str, int] = {}
    unknown: set[str] = set()
    for lineno, text in _lines(path, errors, root):
        where = f"{_rel(root, path)}:{lineno}"
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(ItemError(where, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(record, dict):
            errors.append(ItemError(where, "each line must be a JSON object"))
            continue
        unknown.update(set(record) - _KNOWN_FIELDS)
        item = parse_record(record, root, where, errors)
        if item is None:
            continue
        if item.id in seen:
            errors.append(
                ItemError(where, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
            )
            continue
        seen[item.id] = lineno
        items.append(item)
    if unknown:
        log.warning("%s: ignored unknown field(s) %s", path, ", ".join(sorted(unknown)))
    return items


def parse_record(
    record: dict[str, Any], root: Path, where: str, errors: list[ItemError]
) -> Item | None:
    """One corpus/query record to an :class:`Item`; problems go to ``errors``."""
    raw_id = record.get("_id", record.get("id"))
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        errors.append(ItemError(where, "record has no '_id' (or 'id')"))
        return None
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool):
        errors.append(ItemError(where, f"id must be a string or integer, not {raw_id!r}"))
        return None
    item_id = str(raw_id)
    label = f"{where} (id {item_id!r})"
    modality = record.get("modality") or "text"
    if modality not in MODALITIES:
        errors.append(ItemError(label, f"unknown modality {modality!r}; use one of {MODALITIES}"))
        return None
    attributes: dict[str, Any] = {}
    for key in ("metadata", "attributes"):
        value = record.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(ItemError(label, f"'{key}' must be a JSON object"))
            return None
        attributes.update(value)
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        errors.append(ItemError(label, "'title' must be a string"))
        return None
    if title:
        attributes["title"] = title
    if modality == "text":
        text = record.get("text")
        if "path" in record and text is None:
            errors.append(ItemError(label, "text items carry their text in 'text', not 'path'"))
            return None
        if text is not None and not isinstance(text, str):
            errors.append(ItemError(label, "'text' must be a string"))
            return None
        content = " ".join(part for part in (title, text) if part and part.strip())
        if not content.strip():
            errors.append(ItemError(label, "empty text"))
            return None
        return Item(id=item_id, modality="text", content=content, attributes=attributes)
    reference = record.get("path")
    if not isinstance(reference, str) or not reference.strip():
        errors.append(ItemError(label, f"{modality} items need a relative 'path'"))
        return None
    try:
        path = resolve_inside(root, reference)
    except UnsafePathError as exc:
        errors.append(ItemError(label, str(exc)))
        return None
    if not path.is_file():
        what = "not a regular file" if path.exists() else "file not found"
        errors.append(ItemError(label, f"{what}: {reference}"))
        return None
    return Item(id=item_id, modality=modality, content=path, attributes=attributes)


def _read_qrels(
    root: Path,
    path: Path,
    corpus_ids: set[str],
    query_ids: set[str],
    errors: list[ItemError],
) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for lineno, text in _lines(path, errors, root):
        where = f"{_rel(root, path)}:{lineno}"
        fields = text.split("\t") if "\t" in text else text.split()
        if len(fields) != 3:
            errors.append(
                ItemError(
                    where, f"expected 3 fields (query-id, corpus-id, score), got {len(fields)}"
                )
            )
            continue
        qid, cid, raw_grade = (f.strip() for f in fields)
        try:
            grade = as_grade(raw_grade)
        except ValueError as exc:
            if lineno == 1 and _is_header(qid, raw_grade):  # BEIR's "query-id corpus-id score"
                continue
            errors.append(ItemError(where, str(exc)))
            continue
        if qid not in query_ids:
            errors.append(ItemError(where, f"unknown query id {qid!r}"))
        if cid not in corpus_ids:
            errors.append(ItemError(where, f"unknown corpus id {cid!r}"))
        previous = qrels.setdefault(qid, {}).get(cid)
        if previous is not None and previous != grade:
            errors.append(
                ItemError(
                    where, f"conflicting grades for ({qid!r}, {cid!r}): {previous} and {grade}"
                )
            )
        qrels[qid][cid] = grade
    return qrels


def _is_header(first: str, last: str) -> bool:
    return first.lower() in {"query-id", "query_id", "qid", "query"} or last.lower() in {
        "score",
        "relevance",
        "grade",
        "label",
    }


# -- writing ------------------------------------------------------------------------------


def _record_line(item: Item, root: Path, errors: list[ItemError]) -> str:
    record: dict[str, Any] = {"_id": item.id, "modality": item.modality}
    if item.modality == "text":
        record["text"] = item.content
    elif isinstance(item.content, bytes):
        errors.append(ItemError(item.id, "inline bytes cannot be written; save to a file first"))
        return ""
    else:
        path = Path(item.content).resolve()
        if not path.is_relative_to(root.resolve()):
            errors.append(ItemError(item.id, f"file lies outside the dataset folder: {path}"))
            return ""
        record["path"] = path.relative_to(root.resolve()).as_posix()
    if item.attributes:
        record["attributes"] = dict(item.attributes)
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
