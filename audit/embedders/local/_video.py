"""Frame sampling for the local embedder's video path (PyAV).

Sampling rule: one frame every ``1 / fps`` seconds of presentation time, starting at the
first frame; when that would give more than ``max_frames`` frames and the duration is
known, the step widens to ``duration / max_frames`` so the samples span the whole video.
Each target time takes the first frame at or after it; a frame is never taken twice.
"""

from __future__ import annotations

import logging
from typing import Any

from audit.embedders._media import media_source
from audit.items import Item, ItemError

log = logging.getLogger(__name__)


def sample_step(duration_s: float | None, fps: float, max_frames: int) -> float:
    """Seconds between sampled frames under the module's sampling rule."""
    step = 1.0 / fps
    if duration_s is not None and duration_s > 0 and duration_s / step > max_frames:
        step = duration_s / max_frames
    return step


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # av.time_base: microseconds
    return None


def sample_frames(item: Item, *, fps: float, max_frames: int, max_pixels: int) -> list[Any]:
    """Decode a video item and return its sampled frames as RGB ``PIL.Image`` objects.

    Parameters
    ----------
    item : Item
        A video item (path or bytes of any container/codec FFmpeg reads).
    fps : float
        Target sampling rate in frames per second.
    max_frames : int
        At most this many frames are returned.
    max_pixels : int
        Frames larger than this (width x height) are refused, like images.

    Raises
    ------
    ItemError
        If the video does not decode, has no video stream or no decodable frame, or its
        frames exceed ``max_pixels``.
    """
    import av

    frames: list[Any] = []
    try:
        with av.open(media_source(item), mode="r", metadata_errors="ignore") as container:
            if not container.streams.video:
                raise ItemError(item.id, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame-parallel decoding; same frames, faster
            step = sample_step(_duration(container, stream), fps, max_frames)
            rate = float(stream.average_rate or fps)
            t0: float | None = None
            next_t = 0.0
            for index, frame in enumerate(container.decode(stream)):
                if frame.width * frame.height > max_pixels:
                    raise ItemError(
                        item.id,
                        f"video frames are {frame.width}x{frame.height} (limit {max_pixels} px)",
                    )
                t = frame.time if frame.time is not None else index / rate
                t0 = t if t0 is None else t0
                rel = t - t0
                if rel + 1e-6 < next_t:
                    continue
                frames.append(frame.to_image())
                while next_t <= rel + 1e-6:  # skip targets this frame already covers
                    next_t += step
                if len(frames) >= max_frames:
                    break
    except ItemError:
        raise
    except Exception as exc:  # PyAV raises many error types for corrupt input
        raise ItemError(item.id, f"video does not decode: {exc}") from exc
    if not frames:
        raise ItemError(item.id, "video has no decodable frames")
    log.debug("item %r: sampled %d frame(s) every %.3f s", item.id, len(frames), step)
    return [f.convert("RGB") for f in frames]
