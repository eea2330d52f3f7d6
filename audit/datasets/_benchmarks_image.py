"""Image and document benchmarks in their public Hugging Face layouts.

Column names were checked against the hub dataset cards / loading scripts where noted;
"unverified" marks fields taken from other mirrors or memory, which the loaders only use
when present.

* MSCOCO 5k test (``nlphuji/mscoco_2014_5k_test_image_text_retrieval``): ``image``,
  ``caption`` (list of 5 strings) - verified from its loading script and users' code;
  the id column (``cocoid``/``imgid``/``img_id``/``filename``) is unverified, the row
  index is used when none is present.
* COCO Karpathy split (``yerevann/coco-karpathy`` and mirrors such as
  ``bitmind/MS-COCO``): ``filepath``, ``filename``, ``sentences`` (list of str, or
  ``{"raw": ...}`` structs), ``cocoid``, ``split``; some mirrors add ``image`` -
  verified from the mirrors' dataset cards.
* TextCaps (``lmms-lab/TextCaps``): ``image``, ``image_id``, ``caption_str`` (list),
  ``reference_strs`` (list) - verified from its dataset card. The test split has no
  captions.
* ViDoRe (v1 ``*_beir`` and v2 ``vidore/esg_reports_v2`` etc.): configs ``corpus``
  (``corpus-id``, ``image``), ``queries`` (``query-id``, ``query``), ``qrels``
  (``query-id``, ``corpus-id``, ``score``) - verified for the v1 BEIR sets; v2's extra
  columns (``doc-id``, ``page_number_in_doc``, ``language``) are unverified and kept as
  attributes only when present.
* MTEB retrieval (e.g. ``mteb/scifact``): configs ``corpus`` (``_id``, ``title``,
  ``text``), ``queries`` (``_id``, ``text``), ``default`` qrels (``query-id``,
  ``corpus-id``, ``score``) - the BEIR layout MTEB documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.datasets._build import PairBuilder, media_content, plain, texts_of
from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._hf_beir import beir_parts, from_hf_beir
from audit.datasets._hf_io import open_hf, pick_split, rows
from audit.items import ItemError

MSCOCO_5K_HUB = "nlphuji/mscoco_2014_5k_test_image_text_retrieval"
COCO_KARPATHY_HUB = "yerevann/coco-karpathy"
TEXTCAPS_HUB = "lmms-lab/TextCaps"

_COCO_ID_COLUMNS = ("cocoid", "imgid", "img_id", "image_id", "filename")


def mscoco_5k(
    source: Any = MSCOCO_5K_HUB, *, split: str = "test", name: str = "mscoco-5k"
) -> Dataset:
    """MSCOCO 2014 5k test set (Karpathy split) as text->image retrieval.

    Each image is a corpus item; each of its captions a query judged relevant to it.

    Parameters
    ----------
    source : datasets.Dataset, path or hub id
        The table (``image``, ``caption`` list, optional id column) - see the module
        notes for the layout.
    split : str
        Split to read when ``source`` holds several.
    name : str
        Dataset name.
    """
    table = pick_split(open_hf(source, split=split), split, name)
    return _captioned_images(
        table,
        name=name,
        split=split,
        caption_columns=("caption", "captions", "sentences"),
        id_columns=_COCO_ID_COLUMNS,
        card=_card(name, source, "MSCOCO 2014 (Lin et al., 2014), Karpathy 5k test split"),
    )


def coco_karpathy(
    source: Any = COCO_KARPATHY_HUB,
    *,
    split: str = "test",
    karpathy_split: str | None = "test",
    images_root: str | Path | None = None,
    name: str = "coco-karpathy",
) -> Dataset:
    """COCO in the Karpathy-split layout as text->image retrieval.

    Parameters
    ----------
    source : datasets.Dataset, path or hub id
        Rows per image or per sentence, grouped by ``cocoid``.
    split : str
        Hugging Face split to read.
    karpathy_split : str or None
        Keep rows whose ``split`` column has this value (``test``, ``val``,
        ``train``, ``restval``); ``None`` keeps all.
    images_root : str or pathlib.Path, optional
        Folder holding ``<filepath>/<filename>`` (e.g. ``val2014/COCO_val2014_...jpg``)
        for layouts without an ``image`` column.
    """
    table = pick_split(open_hf(source, split=split), split, name)
    if karpathy_split is not None and "split" in table.column_names:
        table = table.filter(lambda s: s == karpathy_split, input_columns=["split"])
    root = Path(images_root) if images_root is not None else None
    builder = PairBuilder(name)
    has_image = "image" in table.column_names
    if not has_image and root is None:
        raise DatasetError(
            [ItemError(name, "this layout has no 'image' column; pass images_root=")], name
        )
    for index, row in enumerate(rows(table)):
        where = f"row {index}"
        cid = _row_id(row, _COCO_ID_COLUMNS, index)
        if cid not in builder.corpus:
            if has_image:
                cell: Any = row["image"]
            else:
                cell = "/".join(str(row[c]) for c in ("filepath", "filename") if row.get(c))
            content = media_content(cell, where, builder, root)
            if content is None:
                continue
            builder.add_corpus(cid, "image", content, {})
        _add_captions(builder, cid, texts_of(row.get("sentences")))
    card = _card(name, source, "MSCOCO 2014 (Lin et al., 2014), Karpathy split")
    return builder.build(split=split, root=root, card=card)


def textcaps(source: Any = TEXTCAPS_HUB, *, split: str = "val", name: str = "textcaps") -> Dataset:
    """TextCaps (captions that read text in the image) as text->image retrieval.

    Captions come from ``caption_str`` (falling back to ``reference_strs``); images
    are grouped by ``image_id``.
    """
    table = pick_split(open_hf(source, split=split), split, name)
    return _captioned_images(
        table,
        name=name,
        split=split,
        caption_columns=("caption_str", "reference_strs", "caption", "captions"),
        id_columns=("image_id", "image_name"),
        card=_card(name, source, "TextCaps (Sidorov et al., 2020)"),
    )


def vidore(
    source: Any,
    *,
    split: str = "test",
    name: str | None = None,
    media_root: str | Path | None = None,
) -> Dataset:
    """A ViDoRe visual-document retrieval set (v1 ``*_beir`` or v2) as text->image.

    Corpus items are page images (modality ``image``: pages come as pictures).

    Parameters
    ----------
    source : str, pathlib.Path or mapping
        A hub id (configs ``corpus``/``queries``/``qrels`` are loaded), a folder with
        ``corpus``/``queries``/``qrels`` sub-datasets (``save_to_disk`` or parquet), or
        a mapping of those three ``datasets.Dataset`` objects.
    """
    label = name or _name_of(source, "vidore")
    corpus, queries, qrels = beir_parts(source, split=split, qrels_configs=("qrels", "default"))
    return from_hf_beir(
        corpus,
        queries,
        qrels,
        name=label,
        split=split,
        media_root=media_root,
        attributes=("doc-id", "page_number_in_doc", "language", "query_type", "source_type"),
        card=_card(label, source, "ViDoRe benchmark (Faysse et al., 2024; v2 Mace et al., 2025)"),
    )


def mteb_retrieval(source: Any, *, split: str = "test", name: str | None = None) -> Dataset:
    """An MTEB retrieval task in its BEIR layout (``corpus``, ``queries``, ``default``
    qrels) as text->text retrieval."""
    label = name or _name_of(source, "mteb")
    corpus, queries, qrels = beir_parts(source, split=split, qrels_configs=("default", "qrels"))
    return from_hf_beir(
        corpus,
        queries,
        qrels,
        name=label,
        split=split,
        card=_card(label, source, "MTEB retrieval task (Muennighoff et al., 2023), BEIR layout"),
    )


def _captioned_images(
    table: Any,
    *,
    name: str,
    split: str,
    caption_columns: tuple[str, ...],
    id_columns: tuple[str, ...],
    card: dict[str, Any],
) -> Dataset:
    columns = table.column_names
    caption_col = next((c for c in caption_columns if c in columns), None)
    if "image" not in columns or caption_col is None:
        raise DatasetError(
            [ItemError(name, f"expected 'image' and one of {caption_columns}; got {columns}")], name
        )
    builder = PairBuilder(name)
    for index, row in enumerate(rows(table)):
        cid = _row_id(row, id_columns, index)
        if cid not in builder.corpus:
            content = media_content(row["image"], f"row {index}", builder, None)
            if content is None:
                continue
            builder.add_corpus(cid, "image", content, {})
        _add_captions(builder, cid, texts_of(row.get(caption_col)))
    return builder.build(split=split, card=card)


def _add_captions(builder: PairBuilder, corpus_id: str, captions: list[str]) -> None:
    for caption in captions:
        builder.add_caption(caption, corpus_id)


def _row_id(row: Mapping[str, Any], columns: tuple[str, ...], index: int) -> str:
    for column in columns:
        value = row.get(column)
        if value is not None and value != "":
            return str(plain(value))
    return str(index)


def _name_of(source: Any, default: str) -> str:
    if isinstance(source, str | Path):
        return str(source).rstrip("/").split("/")[-1] or default
    return default


def _card(name: str, source: Any, provenance: str) -> dict[str, Any]:
    where = str(source) if isinstance(source, str | Path) else "in-memory table"
    return {
        "name": name,
        "source": where,
        "provenance": provenance,
        "license": "see the source dataset's card (not bundled with mme-audit)",
    }
