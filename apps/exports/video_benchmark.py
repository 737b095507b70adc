"""`python manage.py benchmark video [--size VIDEOS] [--option frames=3000 tracks=10 editor=1 editor_tracks=50 ...]`.

- probe: one generated video of `frames` frames (PyAV, 64×48 MPEG-4) probed `size` times the way the import task
  does (demux every packet for the frame table, decode the 8 strip frames): videos/s and frames/s. The same bytes
  are probed each time (encoding 100 distinct 3,000-frame videos would dominate the run).
- export: `size` videos × `frames` frames × `tracks` box tracks (a keyframe every 30 frames) written as NDJSON with
  every interpolated frame; frames/s, MB written and the process's peak RSS growth (flat memory: the growth of the
  whole run against the first video's).
- consensus: three labels per video compared track by track (`video_consensus`): ms per row.
- editor (option editor=1): the video editor (static/labeling/video.js) in headless Chromium on a 1080p video with
  `editor_tracks` tracks: ms from the →-key press to the step's frame painted with its boxes (median, p95, max),
  `steps` steps at a held key's pace (`pause_ms`, default 33: 30 steps/s) and `steps` more back to back
  (apps/exports/video_editor_benchmark.py).
"""

from __future__ import annotations

import io
import resource
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.video.stream import VideoStream

from apps.core.benchmarks import benchmark
from apps.datasets.domain.video_probe import probe_video
from apps.exports.domain.video_formats import VideoItem, ndjson_video_line
from apps.quality.domain.video_consensus import video_consensus


def generated_video(frames: int, size: tuple[int, int] = (64, 48), codec: str = "mpeg4", fmt: str = "mp4") -> bytes:
    out = io.BytesIO()
    width, height = size
    with av.open(out, mode="w", format=fmt) as container:
        stream = container.add_stream(codec, rate=30)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        stream.codec_context.max_b_frames = 0
        for i in range(frames):
            array = np.zeros((height, width, 3), dtype=np.uint8)
            left = (i * 4) % max(width - 40, 1)
            array[height // 4 : height // 4 + height // 6, left : left + width // 6] = 255
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def track_label(tracks: int, frames: int, shift: float = 0.0) -> list[dict[str, Any]]:
    return [
        {
            "schema_id": "car",
            "name": "car",
            "tool": "bbox",
            "track_id": f"t{n}",
            "keyframes": [
                {
                    "frame": f,
                    "bbox": {"left": 10 + n * 30 + (f % 90) + shift, "top": 20 + n * 5, "width": 40, "height": 30},
                }
                for f in range(0, frames, 30)
            ],
        }
        for n in range(tracks)
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@benchmark("video")
def video_benchmark(params: dict[str, Any]) -> dict[str, Any]:
    videos = int(params.get("size") or 100)
    frames = int(params.get("frames", 3000))
    tracks = int(params.get("tracks", 10))
    result: dict[str, Any] = {"videos": videos, "frames": frames, "tracks": tracks}

    body = generated_video(frames)
    started = time.perf_counter()
    for _ in range(videos):
        probed = probe_video(body)
        assert probed.frame_count == frames
    seconds = time.perf_counter() - started
    result["probe_videos_per_s"] = round(videos / seconds, 2)
    result["probe_frames_per_s"] = round(videos * frames / seconds)

    label = track_label(tracks, frames)
    written = 0
    base_rss = _rss_mb()
    first_rss = None
    started = time.perf_counter()
    for n in range(videos):
        item = VideoItem(
            f"row-{n}", f"video-{n}.mp4", frames, 1920, 1080, label, frame_times=[i / 30 for i in range(frames)]
        )
        for piece in ndjson_video_line(item, interpolated=True):
            written += len(piece)
        if first_rss is None:
            first_rss = _rss_mb()
    seconds = time.perf_counter() - started
    result["export_frames_per_s"] = round(videos * frames / seconds)
    result["export_boxes_per_s"] = round(videos * frames * tracks / seconds)
    result["export_mb"] = round(written / 1e6, 1)
    result["export_peak_rss_growth_mb"] = round(_rss_mb() - base_rss, 1)
    result["export_rss_growth_after_first_video_mb"] = round(_rss_mb() - (first_rss or base_rss), 1)

    documents = [track_label(tracks, frames), track_label(tracks, frames, 2.0), track_label(tracks, frames, 8.0)]
    rows = max(1, min(videos, 20))
    started = time.perf_counter()
    for _ in range(rows):
        consensus = video_consensus(documents, frame_count=frames, image_size=(1920, 1080))
    result["consensus_ms_per_row"] = round((time.perf_counter() - started) * 1000 / rows, 1)
    result["consensus_score"] = round(consensus.score, 4)

    if str(params.get("editor", "1")) not in ("0", "false", "no"):
        from apps.exports.video_editor_benchmark import editor_step_latency

        result.update(
            editor_step_latency(
                tracks=int(params.get("editor_tracks", 50)),
                steps=int(params.get("steps", 40)),
                pause_ms=int(params.get("pause_ms", 33)),
            )
        )
    return result
