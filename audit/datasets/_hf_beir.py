"""BEIR table sets on Hugging Face (MTEB, ViDoRe): corpus, queries and qrels tables."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.datasets._build import PairBuilder, media_content, plain
from audit.datasets._dataset import Dataset, DatasetError, as_grade
from audit.datasets._hf_io import datasets_module, feature_modality, open_hf, rows, with_name
from audit.items import ItemError

log = logging.getLogger(__name__)


def from_hf_beir(
    corpus: Any,
    queries: Any,
    qrels: Any,
    *,
    name: str = "hf-beir",
    split: str = "test",
    card: Mapping[str, Any] | None = None,
    media_root: str | Path | None = None,
    attributes: Sequence[str] = (),
) -> Dataset:
    """BEIR-layout tables (MTEB, ViDoRe) to a :class:`Dataset`.

    Parameters
    ----------
    corpus : datasets.Dataset
        Id column ``_id``, ``corpus-id`` or ``id``; content in the first media column
        (e.g. ViDoRe's ``image``) or in ``text`` (with ``title`` prepended, as MTEB does).
    queries : datasets.Dataset
        Id column ``_id``, ``query-id`` or ``id``; text in ``text`` or ``query``.
    qrels : datasets.Dataset or None
        Columns ``query-id``, ``corpus-id``, ``score`` (underscored names accepted).
        ``None`` when the queries carry no judgements (then none are kept).
    attributes : sequence of str
        Extra corpus/query columns kept as attributes when present (e.g. ``doc-id``).
    """
    for part in (corpus, queries, qrels):
        if isinstance(part, datasets_module().DatasetDict):
            raise DatasetError([ItemError(name, "pass single splits, not a DatasetDict")], name)
    root = Path(media_root) if media_root is not None else None
    builder = PairBuilder(name)
    corpus_cols = list(corpus.column_names)
    cid_col = _first(
        corpus_cols, ("_id", "corpus-id", "corpus_id", "id", "docid"), "corpus id", builder
    )
    media_col = next(
        (c for c in corpus_cols if feature_modality(corpus.features[c]) not in (None, "text")), None
    )
    modality = feature_modality(corpus.features[media_col]) if media_col else "text"
    text_col = (
        None if media_col else _first(corpus_cols, ("text", "contents"), "corpus text", builder)
    )
    query_cols = list(queries.column_names)
    qid_col = _first(query_cols, ("_id", "query-id", "query_id", "id"), "query id", builder)
    qtext_col = _first(query_cols, ("text", "query"), "query text", builder)
    if builder.errors:
        raise DatasetError(builder.errors, name)
    for index, row in enumerate(rows(corpus)):
        where = f"corpus row {index}"
        cid = str(plain(row[cid_col]))
        attrs = {a: plain(row[a]) for a in attributes if a in row and row[a] is not None}
        if media_col:
            content = media_content(row[media_col], where, builder, root)
            if content is None:
                continue
        else:
            title = row.get("title")
            if title:
                attrs["title"] = title
            content = " ".join(
                t for t in (title, row[text_col]) if isinstance(t, str) and t.strip()
            )
            if not content:
                builder.error(where, "empty text")
                continue
        if not builder.add_corpus(cid, modality or "text", content, attrs):
            builder.error(where, f"duplicate corpus id {cid!r}")
    texts: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in rows(queries):
        attrs = {a: plain(row[a]) for a in attributes if a in row and row[a] is not None}
        texts[str(plain(row[qid_col]))] = (row[qtext_col], attrs)
    for index, row in enumerate(rows(qrels) if qrels is not None else []):
        where = f"qrels row {index}"
        qid = str(plain(_get(row, "query-id", "query_id")))
        cid = str(plain(_get(row, "corpus-id", "corpus_id")))
        score = plain(row.get("score", 1))
        if qid not in texts:
            builder.error(where, f"unknown query id {qid!r}")
            continue
        if cid not in builder.corpus:
            builder.error(where, f"unknown corpus id {cid!r}")
            continue
        try:
            grade = as_grade(score)
        except ValueError as exc:
            builder.error(where, str(exc))
            continue
        text, attrs = texts[qid]
        builder.add_query(text, {cid: grade}, query_id=qid, attributes=attrs)
    dropped = len(texts) - len(builder.queries)
    if dropped:
        log.info("%s: %d queries without judgements in split %s left out", name, dropped, split)
    return builder.build(split=split, root=root, card=with_name(card, name))


def _first(available: Sequence[str], names: Sequence[str], what: str, builder: PairBuilder) -> str:
    found = next((n for n in names if n in available), None)
    if found is None:
        builder.error(
            "columns", f"no {what} column (looked for {list(names)} in {list(available)})"
        )
        return ""
    return found


def _get(row: Mapping[str, Any], *names: str) -> Any:
    return next((row[n] for n in names if n in row), None)


def beir_parts(source: Any, *, split: str, qrels_configs: tuple[str, ...]) -> tuple[Any, Any, Any]:
    """``(corpus, queries, qrels)`` tables from a mapping, a local folder or a hub id."""
    ds = datasets_module()
    if isinstance(source, Mapping):
        parts = dict(source)
    elif isinstance(source, str | Path) and Path(source).is_dir():
        root = Path(source)
        parts = {p.name: open_hf(p) for p in root.iterdir() if p.is_dir() or p.suffix == ".parquet"}
        parts = {Path(k).stem: v for k, v in parts.items()}
    else:
        hub = str(source)
        parts = {c: ds.load_dataset(hub, c) for c in ("corpus", "queries")}
        for config in qrels_configs:
            try:
                parts[config] = ds.load_dataset(hub, config)
                break
            except ValueError:  # config absent from this repository
                continue
    qrels_key = next((k for k in (*qrels_configs, split) if k in parts), None)
    missing = [k for k in ("corpus", "queries") if k not in parts]
    if missing or qrels_key is None:
        absent = [*missing, *([] if qrels_key else ["/".join(qrels_configs)])]
        raise DatasetError([ItemError(str(source), f"missing part(s): {absent}")], str(source))
    return (
        _one_split(parts["corpus"], split, "corpus"),
        _one_split(parts["queries"], split, "queries"),
        _one_split(parts[qrels_key], split, qrels_key),
    )


def _one_split(obj: Any, split: str, part: str) -> Any:
    """The wanted split of a part; MTEB names the corpus split ``corpus``, ViDoRe ``test``."""
    if not isinstance(obj, datasets_module().DatasetDict):
        return obj
    for key in (split, part):
        if key in obj:
            return obj[key]
    if len(obj) == 1:
        return next(iter(obj.values()))
    raise DatasetError([ItemError(part, f"no split {split!r} (splits: {', '.join(obj)})")], part)
