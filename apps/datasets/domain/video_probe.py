"""Probe a video with PyAV (FFmpeg's libraries): the frame table, rate, size, codec, a poster and a thumbnail strip.

Pure: bytes or a file in, plain values out. The frame count and the timestamps come from demuxing every packet of
the first video stream (exact, no decoding); only the poster and the strip's frames are decoded (by seeking).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from typing import IO, Any

import av
from PIL import Image

from apps.datasets.domain.video_frames import FrameTable, duration_of, frame_rate_of

STRIP_FRAMES = 8
STRIP_HEIGHT = 90
POSTER_MAX_WIDTH = 640


class VideoProbeError(Exception):
    """The file is not a readable video; the message says why, for the row's error."""


@dataclass
class VideoProbeResult:
    frame_count: int
    frame_rate: Fraction  # exact for constant frame rate, the average under variable frame rate
    variable_frame_rate: bool
    duration: Fraction  # seconds
    width: int
    height: int
    codec: str
    time_base: Fraction
    pts: list[int]
    poster_jpeg: bytes = b""
    strip_jpeg: bytes = b""
    strip_frames: list[int] = field(default_factory=list)

    @property
    def table(self) -> FrameTable:
        return FrameTable(tuple(self.pts), self.time_base)

    def figures(self) -> dict[str, Any]:
        """The probe's figures as JSON-ready typed values."""
        return {
            "frame_count": self.frame_count,
            "frame_rate": float(self.frame_rate),
            "frame_rate_exact": f"{self.frame_rate.numerator}/{self.frame_rate.denominator}",
            "variable_frame_rate": self.variable_frame_rate,
            "duration": float(self.duration),
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
        }


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def strip_frame_indices(frame_count: int, count: int = STRIP_FRAMES) -> list[int]:
    """`count` frames spread evenly from the first to the last (fewer for short videos)."""
    if frame_count <= count:
        return list(range(frame_count))
    return [round(i * (frame_count - 1) / (count - 1)) for i in range(count)]


def _decode_at(container: Any, stream: Any, target_pts: int) -> Image.Image | None:
    container.seek(target_pts, stream=stream, backward=True, any_frame=False)
    last = None
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        last = frame
        if frame.pts >= target_pts:
            break
    return last.to_image() if last is not None else None


def _images(container: Any, stream: Any, pts: list[int], frames: list[int]) -> list[Image.Image]:
    images: list[Image.Image] = []
    for index in frames:
        image = _decode_at(container, stream, pts[index])
        if image is not None:
            images.append(image)
    return images


def _strip(images: list[Image.Image]) -> bytes:
    if not images:
        return b""
    scaled = [im.resize((max(1, round(im.width * STRIP_HEIGHT / im.height)), STRIP_HEIGHT)) for im in images]
    strip = Image.new("RGB", (sum(im.width for im in scaled), STRIP_HEIGHT))
    x = 0
    for im in scaled:
        strip.paste(im, (x, 0))
        x += im.width
    return _jpeg(strip, quality=70)


def _poster(image: Image.Image) -> bytes:
    if image.width > POSTER_MAX_WIDTH:
        image = image.resize((POSTER_MAX_WIDTH, max(1, round(image.height * POSTER_MAX_WIDTH / image.width))))
    return _jpeg(image)


def probe_video(source: bytes | IO[bytes], *, images: bool = True) -> VideoProbeResult:
    """Probe `source` (bytes or a seekable binary file). Raises `VideoProbeError` with a readable message."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        container = av.open(handle, mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VideoProbeError(f"Not a readable video file ({exc.__class__.__name__}: {exc}).") from None
    try:
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise VideoProbeError("This is a still image, not a video.")
        if not container.streams.video:
            raise VideoProbeError("The file has no video stream.")
        stream = container.streams.video[0]
        if stream.time_base is None:
            raise VideoProbeError("The video stream has no time base.")
        time_base = Fraction(stream.time_base.numerator, stream.time_base.denominator)
        try:
            pts = sorted({p.pts for p in container.demux(stream) if p.pts is not None and p.size > 0})
        except av.FFmpegError as exc:
            raise VideoProbeError(f"The video stream could not be read ({exc}).") from None
        if not pts:
            raise VideoProbeError("The video stream has no frames.")
        context = stream.codec_context
        rate, variable = frame_rate_of(pts, time_base)
        result = VideoProbeResult(
            frame_count=len(pts),
            frame_rate=rate,
            variable_frame_rate=variable,
            duration=duration_of(pts, time_base),
            width=int(context.width or 0),
            height=int(context.height or 0),
            codec=str(context.name or ""),
            time_base=time_base,
            pts=pts,
        )
        if not result.width or not result.height:
            raise VideoProbeError("The video stream has no frame size.")
        if images:
            try:
                result.strip_frames = strip_frame_indices(len(pts))
                decoded = _images(container, stream, pts, result.strip_frames)
            except av.FFmpegError as exc:
                raise VideoProbeError(f"The video frames could not be decoded ({exc}).") from None
            if not decoded:
                raise VideoProbeError("No frame of the video could be decoded.")
            result.poster_jpeg = _poster(decoded[0])
            result.strip_jpeg = _strip(decoded)
        return result
    finally:
        container.close()
