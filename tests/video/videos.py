"""Short videos written by PyAV in the tests: a moving white rectangle on black, constant or variable frame rate."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

WIDTH, HEIGHT = 64, 48


def rectangle_at(frame: int, step: int = 1) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the rectangle in `frame`: it moves `step` pixels right per frame."""
    return (2 + (frame % 40) * step, 10, 12, 8)


def make_video(
    frames: int = 45,
    *,
    rate: int = 30,
    pts: list[int] | None = None,
    time_base: Fraction = Fraction(1, 30),
    container_format: str = "mp4",
    codec: str = "mpeg4",
    size: tuple[int, int] = (WIDTH, HEIGHT),
    step: int = 1,
) -> bytes:
    """Encode `frames` frames. Constant rate by default; with `pts` (in `time_base` units) a variable rate."""
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        stream.codec_context.max_b_frames = 0
        for i in range(frames):
            array = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            left, top, w, h = rectangle_at(i, step)
            array[top : top + h, left : left + w] = 255
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def vfr_pts(frames: int) -> list[int]:
    """Millisecond timestamps with irregular gaps (33, 33, 50, 17, 100 … ms)."""
    gaps = [33, 33, 50, 17, 100, 40]
    pts = [0]
    for i in range(1, frames):
        pts.append(pts[-1] + gaps[i % len(gaps)])
    return pts
