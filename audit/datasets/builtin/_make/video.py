"""``video``: short MP4 clips of scikit-image's sample photos with a spoken caption.

Each clip slowly zooms into one photo (160x120, 12 fps, H.264) while eSpeak NG reads the
photo's caption, which is the first line of its docstring in ``skimage.data`` ("Chelsea
the cat."); AAC mono audio at 16 kHz. The query is that caption.

Unlike the other generators, this one is not byte-reproducible: libx264 output differs
slightly between runs (ids, captions, frames and audio do not).
"""

from __future__ import annotations

import inspect
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from audit.datasets.builtin._make._common import (
    SAMPLE_RATE,
    fresh_folder,
    speak,
    versions,
    write_dataset,
)
from audit.items import Item

WIDTH, HEIGHT, FPS = 160, 120, 12
VOICE = "en-us"
# Photos whose docstring caption describes them, with the license their docstring states.
PHOTOS: dict[str, str] = {
    "astronaut": "public domain (NASA Great Images)",
    "chelsea": "CC0 (photographer Stefan van der Walt)",
    "coffee": "CC0 (photographer Rachel Michetti)",
    "coins": "no known copyright restrictions (Brooklyn Museum Collection)",
    "horse": "CC0 (Andreas Preuss, openclipart)",
    "hubble_deep_field": "public domain (NASA, HubbleSite)",
    "rocket": "public domain (SpaceX Photos)",
    "retina": "CC0 1.0 (Mikael Haggstrom, Wikimedia Commons)",
    "brick": "CC0 (CC0Textures)",
    "grass": "CC0 (DeviantArt, linolafett)",
    "cell": "CC0 (Paul Muller et al.)",
}


def caption(photo: str) -> str:
    """The first docstring line of ``skimage.data.<photo>``."""
    import skimage.data

    doc = inspect.getdoc(getattr(skimage.data, photo)) or ""
    return doc.splitlines()[0].strip()


def _rgb(photo: str) -> np.ndarray:
    import skimage.data

    image = np.asarray(getattr(skimage.data, photo)())
    if image.dtype == bool:
        image = np.where(image, 0, 255).astype(np.uint8)  # horse: black silhouette on white
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return image[..., :3].astype(np.uint8)


def _frames(image: np.ndarray, count: int) -> list[np.ndarray]:
    """A centred 4:3 crop zooming from 100% to 80% over ``count`` frames."""
    from PIL import Image

    h, w = image.shape[:2]
    crop_w, crop_h = (w, int(w * 3 / 4)) if w * 3 / 4 <= h else (int(h * 4 / 3), h)
    base = Image.fromarray(image)
    frames = []
    for i in range(count):
        scale = 1.0 - 0.2 * i / max(count - 1, 1)
        cw, ch = crop_w * scale, crop_h * scale
        left, top = (w - cw) / 2, (h - ch) / 2
        box = (round(left), round(top), round(left + cw), round(top + ch))
        frame = base.crop(box).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        frames.append(np.asarray(frame.convert("RGB")))
    return frames


def write_mp4(path: Path, frames: list[np.ndarray], audio: np.ndarray) -> None:
    """H.264 video and AAC mono audio in one MP4 with PyAV."""
    import av

    with av.open(str(path), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": "30", "preset": "slow"}
        # fewer run-to-run differences; x264's bytes still vary slightly between runs
        video.codec_context.thread_count = 1
        sound = container.add_stream("aac", rate=SAMPLE_RATE)
        sound.layout = "mono"
        sound.bit_rate = 32_000
        for index, array in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode())
        chunk = 1024  # AAC frame size
        for start in range(0, len(audio), chunk):
            piece = audio[start : start + chunk].astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            container.mux(sound.encode(frame))
        container.mux(sound.encode())


def make_video() -> Path:
    """Write ``video``: 11 narrated photo clips queried by their captions."""
    root = fresh_folder("video")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    for photo in PHOTOS:
        text = caption(photo)
        audio = speak(text, VOICE)
        seconds = len(audio) / SAMPLE_RATE + 0.6
        padded = np.concatenate([np.zeros(SAMPLE_RATE // 5, np.float32), audio])
        frames = _frames(_rgb(photo), math.ceil(seconds * FPS))
        path = root / "media" / f"{photo}.mp4"
        write_mp4(path, frames, padded)
        item_id = f"vid.{photo}"
        corpus.append(Item(item_id, "video", path, {"voice": VOICE, "source_image": photo}))
        queries.append(Item(f"q.{photo}", "text", text, {}))
        qrels[f"q.{photo}"] = {item_id: 1}
    card: dict[str, Any] = {
        "name": "video",
        "description": "Eleven short clips, each a slow zoom into one scikit-image sample "
        "photo while eSpeak NG (voice en-us) reads the photo's docstring caption. Query: "
        "the caption; one relevant clip per query.",
        "group_attributes": [],
        "provenance": {
            "source": "Photos and captions: skimage.data (scikit-image package); speech: "
            "eSpeak NG (Debian package espeak-ng); H.264 + AAC in MP4 with PyAV",
            "generator": "audit/datasets/builtin/_make/video.py",
            "tools": versions("scikit-image", "av", "deb:espeak-ng"),
            "photo_licenses": PHOTOS,
        },
        "license": {
            "summary": "Photos: CC0 or public domain per skimage.data's docstrings (see "
            "photo_licenses); captions: scikit-image docstrings (BSD-3-Clause); speech "
            "synthesized by eSpeak NG (the GPL does not cover the program's output).",
            "spdx": ["CC0-1.0", "BSD-3-Clause"],
        },
    }
    licenses = "\n".join(f"| {p} | {caption(p)} | {lic} |" for p, lic in PHOTOS.items())
    readme = f"""# video

{card["description"]}

**Provenance.** {card["provenance"]["source"]}.

**License.** {card["license"]["summary"]}

| photo | caption (query) | license |
|---|---|---|
{licenses}
"""
    write_dataset(root, corpus, queries, qrels, card, readme)
    return root
