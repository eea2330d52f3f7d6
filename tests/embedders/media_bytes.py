"""Small, real media files built in memory for backend tests (they pass item validation)."""

from __future__ import annotations

import io

import av
import numpy as np


def mp4(seconds: int) -> bytes:
    """An MPEG-4 video of ``seconds`` frames at 1 fps (so ``seconds`` long), 16x16."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=1)
        stream.height = stream.width = 16
        stream.pix_fmt = "yuv420p"
        for i in range(seconds):
            frame = np.full((16, 16, 3), (i * 7) % 255, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return buf.getvalue()
