"""Audio and video benchmarks in their public layouts.

* AudioCaps (``jp1924/AudioCaps``, ``TwinkStart/AudioCaps``; captions only in
  ``d0rj/audiocaps``): one row per caption with ``audiocap_id``, ``youtube_id``,
  ``start_time``, ``caption`` and an ``audio`` column - verified from those dataset
  cards. A clip is ``<youtube_id>_<start_time>``.
* ActivityNet Captions: the official JSON (``{"v_xxx": {"duration", "timestamps",
  "sentences"}}``, as in ``friedrichor/ActivityNet_Captions/raw_data``) or the
  ``Leyo/ActivityNet_Captions`` table (``video_id``, ``video_path``, ``duration``,
  ``captions_starts``, ``captions_ends``, ``en_captions`` - ``video_id``/``video_path``
  verified, the caption fields unverified). Neither ships the videos: pass
  ``video_root``.
* DiDeMo: the ``mteb/DiDeMo`` table (``video``, ``caption``, ``audio``) - verified from
  its card - or the original annotation JSON (a list of ``{"video", "description",
  "annotation_id", "times"}``) with ``video_root``.

For ActivityNet and DiDeMo the default query is the paragraph of all of a video's
sentences (paragraph-to-video retrieval, as in CLIP4Clip and ClipBERT).
"""

from __future__ import annotations

import glob
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from audit.datasets._benchmarks_image import _card
from audit.datasets._build import PairBuilder, media_content, plain, texts_of
from audit.datasets._dataset import Dataset, DatasetError
from audit.datasets._hf_io import open_hf, pick_split, rows
from audit.datasets._paths import UnsafePathError, resolve_inside
from audit.items import ItemError

log = logging.getLogger(__name__)

AUDIOCAPS_HUB = "jp1924/AudioCaps"
DIDEMO_HUB = "mteb/DiDeMo"
Missing = Literal["error", "skip"]


def audiocaps(
    source: Any = AUDIOCAPS_HUB, *, split: str = "test", name: str = "audiocaps"
) -> Dataset:
    """AudioCaps as text->audio retrieval: each clip a corpus item, each caption a query.

    Parameters
    ----------
    source : datasets.Dataset, path or hub id
        Rows per caption with an ``audio`` column (see the module notes).
    """
    table = pick_split(open_hf(source, split=split), split, name)
    columns = table.column_names
    if "audio" not in columns or "caption" not in columns:
        raise DatasetError(
            [ItemError(name, f"expected 'audio' and 'caption' columns; got {columns}")], name
        )
    builder = PairBuilder(name)
    for index, row in enumerate(rows(table)):
        where = f"row {index}"
        if row.get("youtube_id") is not None and row.get("start_time") is not None:
            cid = f"{row['youtube_id']}_{plain(row['start_time'])}"
        else:
            cid = str(plain(row.get("audiocap_id", index)))
        if cid not in builder.corpus:
            content = media_content(row["audio"], where, builder, None)
            if content is None:
                continue
            attrs = {"youtube_id": row["youtube_id"]} if row.get("youtube_id") else {}
            builder.add_corpus(cid, "audio", content, attrs)
        qid = row.get("audiocap_id")
        builder.add_query(
            row["caption"], cid, query_id=f"cap-{plain(qid)}" if qid is not None else None
        )
    card = _card(name, source, "AudioCaps (Kim et al., NAACL 2019)")
    return builder.build(split=split, card=card)


def activitynet_captions(
    source: Any,
    *,
    video_root: str | Path,
    split: str = "validation",
    paragraph: bool = True,
    missing: Missing = "error",
    name: str = "activitynet-captions",
) -> Dataset:
    """ActivityNet Captions as text->video retrieval.

    Parameters
    ----------
    source : str, pathlib.Path or datasets.Dataset
        The official JSON file (e.g. ``val_1.json``) or a table in the
        ``Leyo/ActivityNet_Captions`` layout.
    video_root : str or pathlib.Path
        Folder of the videos, named ``<video_id>.<ext>`` (ids keep their ``v_`` prefix).
    paragraph : bool
        One query per video joining its sentences (default), or one per sentence with
        ``start``/``end`` attributes.
    missing : {"error", "skip"}
        Missing videos are all listed in one error, or skipped with a warning (YouTube
        videos disappear; most local copies are incomplete).
    """
    entries: list[tuple[str, list[str], list[Any]]] = []
    if isinstance(source, str | Path) and str(source).endswith(".json"):
        data = _read_json(Path(source), name)
        if not isinstance(data, dict):
            raise DatasetError(
                [ItemError(str(source), "expected an object keyed by video id")], name
            )
        for vid, info in data.items():
            entries.append((vid, texts_of(info.get("sentences")), list(info.get("timestamps", []))))
    else:
        table = pick_split(open_hf(source, split=split), split, name)
        for row in rows(table):
            spans = list(
                zip(row.get("captions_starts") or [], row.get("captions_ends") or [], strict=False)
            )
            entries.append((str(row["video_id"]), texts_of(row.get("en_captions")), spans))
    card = _card(name, source, "ActivityNet Captions (Krishna et al., ICCV 2017)")
    return _video_paragraphs(entries, Path(video_root), name, split, paragraph, missing, card)


def didemo(
    source: Any = DIDEMO_HUB,
    *,
    split: str = "test",
    video_root: str | Path | None = None,
    paragraph: bool = True,
    missing: Missing = "error",
    name: str = "didemo",
) -> Dataset:
    """DiDeMo as text->video retrieval.

    Parameters
    ----------
    source : str, pathlib.Path or datasets.Dataset
        The ``mteb/DiDeMo`` table (videos inline, one caption per video) or the
        original annotation JSON (then ``video_root`` is required).
    """
    if isinstance(source, str | Path) and str(source).endswith(".json"):
        if video_root is None:
            raise DatasetError([ItemError(name, "the annotation JSON needs video_root")], name)
        data = _read_json(Path(source), name)
        grouped: dict[str, list[str]] = {}
        spans: dict[str, list[Any]] = {}
        for entry in data if isinstance(data, list) else []:
            video = str(entry.get("video", ""))
            grouped.setdefault(video, []).extend(texts_of(entry.get("description")))
            spans.setdefault(video, []).append(entry.get("times"))
        entries = [(v, grouped[v], spans[v]) for v in grouped]
        card = _card(name, source, "DiDeMo (Hendricks et al., ICCV 2017)")
        return _video_paragraphs(entries, Path(video_root), name, split, paragraph, missing, card)
    table = pick_split(open_hf(source, split=split), split, name)
    if "video" not in table.column_names or "caption" not in table.column_names:
        raise DatasetError(
            [ItemError(name, f"expected 'video' and 'caption' columns; got {table.column_names}")],
            name,
        )
    builder = PairBuilder(name)
    for index, row in enumerate(rows(table)):
        cid = str(plain(row.get("video_id", index)))
        content = media_content(row["video"], f"row {index}", builder, None)
        if content is None:
            continue
        builder.add_corpus(cid, "video", content, {})
        for text in texts_of(row["caption"]):
            builder.add_caption(text, cid)
    card = _card(name, source, "DiDeMo (Hendricks et al., ICCV 2017), MTEB layout")
    return builder.build(split=split, card=card)


def _video_paragraphs(
    entries: Iterable[tuple[str, list[str], list[Any]]],
    video_root: Path,
    name: str,
    split: str,
    paragraph: bool,
    missing: Missing,
    card: dict[str, Any],
) -> Dataset:
    builder = PairBuilder(name)
    skipped = 0
    for video_id, sentences, spans in entries:
        path = _find_video(video_root, video_id)
        if isinstance(path, str):
            if missing == "skip" and path.startswith("no video"):
                skipped += 1
                continue
            builder.error(video_id, path)
            continue
        cid = Path(video_id).stem
        builder.add_corpus(cid, "video", path, {})
        sentences = [s.strip() for s in sentences if s and s.strip()]
        if paragraph:
            builder.add_query(" ".join(sentences), cid)
            continue
        for k, text in enumerate(sentences):
            span = spans[k] if k < len(spans) else None
            attrs = _span_attributes(span)
            builder.add_query(text, cid, query_id=f"{cid}/s{k}", attributes=attrs)
    if skipped:
        log.warning("%s: %d videos not found under %s were skipped", name, skipped, video_root)
        card = {**card, "skipped_missing_videos": skipped}
    return builder.build(split=split, root=video_root, card=card)


def _find_video(video_root: Path, video_id: str) -> Path | str:
    """The file for ``video_id`` under ``video_root`` (any extension, ``.mp4`` first),
    or the reason it cannot be used."""
    stem = Path(video_id).stem if Path(video_id).suffix else video_id
    try:
        resolve_inside(video_root, stem or "?")
    except UnsafePathError as exc:
        return str(exc)
    candidates = sorted(
        glob.glob(glob.escape(str(video_root / stem)) + ".*"), key=lambda p: not p.endswith(".mp4")
    )
    for candidate in candidates:
        try:
            path = resolve_inside(video_root, Path(candidate).name)
        except UnsafePathError:
            continue
        if path.is_file():
            return path
    return f"no video file named {stem}.* under {video_root}"


def _span_attributes(span: Any) -> dict[str, Any]:
    if (
        isinstance(span, list | tuple)
        and len(span) == 2
        and all(isinstance(v, int | float) for v in span)
    ):
        return {"start": float(span[0]), "end": float(span[1])}
    return {}


def _read_json(path: Path, name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError([ItemError(str(path), f"cannot read JSON: {exc}")], name) from exc


def benchmark_loaders() -> Mapping[str, Any]:
    """Format loaders by benchmark name (image, document and audio/video ones)."""
    from audit.datasets import _benchmarks_image as img

    return {
        "mscoco-5k": img.mscoco_5k,
        "coco-karpathy": img.coco_karpathy,
        "textcaps": img.textcaps,
        "vidore": img.vidore,
        "mteb": img.mteb_retrieval,
        "audiocaps": audiocaps,
        "activitynet-captions": activitynet_captions,
        "didemo": didemo,
    }
