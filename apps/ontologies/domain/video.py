"""Video annotations as tracks of keyframes (pure): geometry at any frame, linear interpolation, outside ranges.

The unit is the global frame index (0-based, presentation order; times come from the probed frame table). A track
is one object with a stable `track_id` and a tool (bbox, polygon, polyline, point). Its keyframes are sorted by
frame; each holds the geometry the labeler set on that frame, or `outside: true` (the object is not visible from
that frame on, until the next keyframe with geometry). The object appears at its first keyframe and, as in CVAT,
stays visible after its last keyframe until the end of the video unless that keyframe is `outside`.

Between two keyframes with geometry the shape is interpolated linearly: boxes (each of left, top, width, height),
points, and polygons/polylines with equal vertex counts (vertex by vertex); other pairs hold the earlier shape.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

GEOMETRY_KEY = {"bbox": "bbox", "polygon": "polygon", "polyline": "line", "point": "point"}
VIDEO_TOOLS = frozenset(GEOMETRY_KEY)


@dataclass(frozen=True)
class Keyframe:
    frame: int
    geometry: Any = None  # None when outside
    outside: bool = False


@dataclass
class Track:
    track_id: str
    tool: str
    schema_id: str
    name: str
    keyframes: list[Keyframe]
    classifications: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keyframes.sort(key=lambda k: k.frame)
        self._frames = [k.frame for k in self.keyframes]

    @property
    def first_frame(self) -> int:
        return self._frames[0]

    def last_frame(self, frame_count: int | None) -> int:
        """The last frame the track may be visible on: the video's end, or its last keyframe when unknown."""
        if self.keyframes[-1].outside:
            return self._frames[-1] - 1
        return frame_count - 1 if frame_count else self._frames[-1]

    def at(self, frame: int, frame_count: int | None = None) -> tuple[Any, bool] | None:
        """(geometry, is_keyframe) at `frame`, or None when the object is not visible there."""
        if frame < self._frames[0] or (frame_count is not None and frame >= frame_count):
            return None
        i = bisect.bisect_right(self._frames, frame) - 1
        before = self.keyframes[i]
        if before.outside:
            return None
        if before.frame == frame:
            return before.geometry, True
        if i + 1 < len(self.keyframes):
            after = self.keyframes[i + 1]
            if not after.outside:
                ratio = (frame - before.frame) / (after.frame - before.frame)
                return interpolate(self.tool, before.geometry, after.geometry, ratio), False
        return before.geometry, False

    def frames(self, frame_count: int | None = None) -> Iterator[tuple[int, Any, bool]]:
        """Every visible frame in order: (frame, geometry, is_keyframe), interpolating pair by pair."""
        end = self.last_frame(frame_count)
        for i, before in enumerate(self.keyframes):
            if before.outside:
                continue
            after = self.keyframes[i + 1] if i + 1 < len(self.keyframes) else None
            stop = after.frame - 1 if after is not None else end
            stop = min(stop, end)
            yield before.frame, before.geometry, True
            span = after.frame - before.frame if after is not None else 0
            for frame in range(before.frame + 1, stop + 1):
                if after is not None and not after.outside:
                    yield (
                        frame,
                        interpolate(self.tool, before.geometry, after.geometry, (frame - before.frame) / span),
                        False,
                    )
                else:
                    yield frame, before.geometry, False

    def outside_ranges(self, frame_count: int | None = None) -> list[tuple[int, int]]:
        """Inclusive [start, end] ranges after the first keyframe where the object is not visible."""
        ranges: list[tuple[int, int]] = []
        for i, key in enumerate(self.keyframes):
            if not key.outside:
                continue
            nxt = self.keyframes[i + 1].frame - 1 if i + 1 < len(self.keyframes) else None
            if nxt is None:
                nxt = frame_count - 1 if frame_count else key.frame
            if ranges and ranges[-1][1] == key.frame - 1:
                ranges[-1] = (ranges[-1][0], nxt)
            else:
                ranges.append((key.frame, nxt))
        return ranges


def _lerp(a: float, b: float, t: float) -> float:
    if t == 0 or a == b:
        return a
    return a + (b - a) * t


def interpolate(tool: str, a: Any, b: Any, t: float) -> Any:
    """The shape a fraction `t` (0..1) of the way from `a` to `b`."""
    if tool == "bbox":
        return {k: _lerp(a[k], b[k], t) for k in ("top", "left", "height", "width")}
    if tool == "point":
        return {"x": _lerp(a["x"], b["x"], t), "y": _lerp(a["y"], b["y"], t)}
    if tool in ("polygon", "polyline") and len(a) == len(b):
        return [{"x": _lerp(p["x"], q["x"], t), "y": _lerp(p["y"], q["y"], t)} for p, q in zip(a, b, strict=True)]
    return a


@dataclass(frozen=True)
class FrameClassification:
    """A classification answered on some frames (inclusive ranges), or on the whole video (`ranges` empty)."""

    schema_id: str
    name: str
    answer: Any
    ranges: tuple[tuple[int, int], ...] = ()

    def covers(self, frame: int) -> bool:
        return not self.ranges or any(start <= frame <= end for start, end in self.ranges)


@dataclass
class VideoDocument:
    tracks: list[Track]
    classifications: list[FrameClassification]

    def objects_at(self, frame: int, frame_count: int | None = None) -> list[tuple[Track, Any, bool]]:
        out = []
        for track in self.tracks:
            hit = track.at(frame, frame_count)
            if hit is not None:
                out.append((track, hit[0], hit[1]))
        return out


def track_from_item(item: dict[str, Any]) -> Track:
    """A normalized track item of a label document → `Track`."""
    key = GEOMETRY_KEY[item["tool"]]
    keyframes = [
        Keyframe(k["frame"], None, True) if k.get("outside") else Keyframe(k["frame"], k[key])
        for k in item["keyframes"]
    ]
    return Track(
        track_id=item["track_id"],
        tool=item["tool"],
        schema_id=item["schema_id"],
        name=item.get("name", ""),
        keyframes=keyframes,
        classifications=item.get("classifications") or [],
    )


def document_from_items(items: list[dict[str, Any]]) -> VideoDocument:
    """A normalized video label document (list of items) → tracks and classifications."""
    tracks: list[Track] = []
    classifications: list[FrameClassification] = []
    for item in items:
        if "keyframes" in item:
            tracks.append(track_from_item(item))
        else:
            ranges = tuple((int(a), int(b)) for a, b in item.get("frames") or ())
            classifications.append(
                FrameClassification(item["schema_id"], item.get("name", ""), item.get("answer"), ranges)
            )
    return VideoDocument(tracks, classifications)
