"""The frame table of a probed video: frame index ↔ presentation time, exact under variable frame rate.

The unit everywhere is the global frame index (0-based, presentation order). Times come from the probed
presentation timestamps (`pts`, in units of the stream's `time_base`), never from a rounded frame rate: frame `i`
starts at `(pts[i] - pts[0]) * time_base` seconds and is shown until frame `i + 1` starts.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from fractions import Fraction

# A float time within this many seconds below a frame's start counts as that frame (floats cannot hold 1/30 exactly).
FLOAT_TOLERANCE = Fraction(1, 1_000_000)


@dataclass(frozen=True)
class FrameTable:
    pts: tuple[int, ...]  # sorted, one per frame
    time_base: Fraction

    def __post_init__(self) -> None:
        if not self.pts:
            raise ValueError("A frame table needs at least one frame.")
        if any(b <= a for a, b in zip(self.pts, self.pts[1:], strict=False)):
            raise ValueError("Frame timestamps must strictly increase.")

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    def time_of(self, frame: int) -> Fraction:
        """The exact start time of `frame` in seconds, relative to the first frame."""
        if not 0 <= frame < len(self.pts):
            raise IndexError(f"Frame {frame} is outside 0..{len(self.pts) - 1}.")
        return (self.pts[frame] - self.pts[0]) * self.time_base

    def frame_at(self, seconds: Fraction | float | int) -> int:
        """The frame shown at `seconds` (the last frame starting at or before it); clamps to the first and last."""
        exact = Fraction(seconds) if not isinstance(seconds, float) else Fraction(seconds) + FLOAT_TOLERANCE
        ticks = exact / self.time_base + self.pts[0]
        index = bisect.bisect_right(self.pts, ticks) - 1
        return min(max(index, 0), len(self.pts) - 1)

    def times(self) -> list[float]:
        """Every frame's start time in seconds (floats, for a browser)."""
        base = self.pts[0]
        return [float((p - base) * self.time_base) for p in self.pts]


def frame_rate_of(pts: list[int] | tuple[int, ...], time_base: Fraction) -> tuple[Fraction, bool]:
    """(rate, variable): the exact rate when every frame lasts the same, else the average rate and `True`."""
    if len(pts) < 2:
        return Fraction(0), False
    deltas = {b - a for a, b in itertools.pairwise(pts)}
    if len(deltas) == 1:
        return 1 / (deltas.pop() * time_base), False
    return Fraction(len(pts) - 1) / ((pts[-1] - pts[0]) * time_base), True


def duration_of(pts: list[int] | tuple[int, ...], time_base: Fraction) -> Fraction:
    """First frame's start to the last frame's end (the last frame lasts as long as the one before it)."""
    if len(pts) < 2:
        return Fraction(0)
    return (pts[-1] - pts[0] + (pts[-1] - pts[-2])) * time_base
