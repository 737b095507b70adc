"""The PyAV probe and the frame table on videos written in the test: exact counts, rates and timestamps (CFR, VFR)."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
from PIL import Image

from apps.datasets.domain.video_frames import FrameTable
from apps.datasets.domain.video_probe import VideoProbeError, probe_video, strip_frame_indices
from tests.video.videos import make_video, rectangle_at, vfr_pts


def test_constant_frame_rate_is_exact() -> None:
    result = probe_video(make_video(45, rate=30))
    assert result.frame_count == 45
    assert result.frame_rate == Fraction(30) and not result.variable_frame_rate
    assert result.duration == Fraction(3, 2)
    assert (result.width, result.height, result.codec) == (64, 48, "mpeg4")
    assert [result.table.time_of(i) for i in range(45)] == [Fraction(i, 30) for i in range(45)]
    assert result.figures()["frame_rate_exact"] == "30/1"


def test_ntsc_rate_is_kept_as_a_fraction() -> None:
    result = probe_video(make_video(20, rate=30, time_base=Fraction(1001, 30000)))
    assert result.frame_count == 20
    assert result.frame_rate == Fraction(30000, 1001)
    assert result.figures()["frame_rate_exact"] == "30000/1001"


def test_variable_frame_rate_keeps_every_timestamp() -> None:
    pts = vfr_pts(45)
    result = probe_video(make_video(45, pts=pts, time_base=Fraction(1, 1000)))
    assert result.frame_count == 45 and result.variable_frame_rate
    assert [result.table.time_of(i) for i in range(45)] == [Fraction(p, 1000) for p in pts]
    assert result.frame_rate == Fraction(44 * 1000, pts[-1])  # the average over the frames' span


def test_timestamp_frame_round_trip_is_exact_under_vfr() -> None:
    pts = vfr_pts(60)
    table = probe_video(make_video(60, pts=pts, time_base=Fraction(1, 1000)), images=False).table
    for frame in range(60):
        exact = table.time_of(frame)
        assert table.frame_at(exact) == frame
        assert table.frame_at(float(exact)) == frame  # floats as a browser sends them
        assert table.frame_at(table.times()[frame]) == frame
    # between two frames: the earlier one is on screen
    assert table.frame_at(Fraction(pts[2] + 1, 1000)) == 2
    assert table.frame_at(Fraction(pts[3] - 1, 1000)) == 2
    # before the start and after the end clamp
    assert table.frame_at(-1) == 0 and table.frame_at(10_000) == 59


def test_frame_table_rejects_bad_tables() -> None:
    with pytest.raises(ValueError):
        FrameTable((), Fraction(1, 30))
    with pytest.raises(ValueError):
        FrameTable((0, 2, 2), Fraction(1, 30))
    with pytest.raises(IndexError):
        FrameTable((0, 1), Fraction(1, 30)).time_of(2)


def test_poster_and_strip_show_the_frames() -> None:
    result = probe_video(make_video(45))
    poster = Image.open(io.BytesIO(result.poster_jpeg))
    assert poster.size == (64, 48) and poster.format == "JPEG"
    left, top, w, h = rectangle_at(0)
    assert poster.getpixel((left + w // 2, top + h // 2))[0] > 200  # the white rectangle
    assert poster.getpixel((60, 40))[0] < 50  # black background
    strip = Image.open(io.BytesIO(result.strip_jpeg))
    assert strip.size == (8 * 120, 90)
    assert result.strip_frames == strip_frame_indices(45) == [0, 6, 13, 19, 25, 31, 38, 44]


def test_strip_of_a_short_video_has_every_frame() -> None:
    assert strip_frame_indices(3) == [0, 1, 2]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "Not a readable video"),
        (b"not a video at all" * 100, "Not a readable video"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "still image"),
        (_png(), "still image"),
    ],
)
def test_unreadable_files_raise_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(VideoProbeError, match=message):
        probe_video(body)


def test_audio_only_file_has_no_video_stream() -> None:
    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(VideoProbeError, match="no video stream"):
        probe_video(out.getvalue())


def test_truncated_video_is_reported_or_probed_partially() -> None:
    body = make_video(45)
    with pytest.raises(VideoProbeError):
        probe_video(body[: len(body) // 3])
