"""COCO run-length encoding of binary masks, in numpy, byte for byte as pycocotools writes it.

A mask of ``height`` × ``width`` pixels is read column by column (Fortran order); ``counts`` alternates runs of 0
and 1 pixels, starting with 0 (a mask whose first pixel is set starts with a run of length 0). The compressed form
(``rleToString`` in pycocotools' ``maskApi.c``) writes each count, from the third on as the difference to the count
two places before it, in little-endian 5-bit groups with a continuation bit (0x20), each group plus 48 as one ASCII
character. A mask document is ``{"size": [height, width], "counts": "<compressed string>"}``.

Every function works on the runs (area, bounding box, IoU need no decoding), so a 1024 × 1024 mask with a few
hundred runs costs microseconds, not a megapixel pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.uint8]


class RLEError(ValueError):
    """A mask document that is not a valid COCO RLE (the message says why, for a 4xx)."""


@dataclass(frozen=True, slots=True)
class RLE:
    height: int
    width: int
    counts: npt.NDArray[np.int64]  # uncompressed run lengths, zeros first
    # The compressed string of `counts` when it is already known (read from a canonical document): `document()`
    # then needs no re-encoding.
    text: str | None = field(default=None, compare=False)

    @property
    def size(self) -> list[int]:
        return [self.height, self.width]

    def document(self) -> dict[str, Any]:
        text = self.text if self.text is not None else compress_counts(self.counts)
        return {"size": [self.height, self.width], "counts": text}

    def ones(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Starts and (exclusive) ends of the runs of set pixels, as column-major pixel offsets."""
        edges = np.cumsum(self.counts)
        n = len(self.counts) // 2
        return edges[0 : 2 * n : 2], edges[1 : 2 * n + 1 : 2]


# --- compressed string <-> counts -------------------------------------------------------------------------------


def _groups(x: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How many 5-bit groups `rleToString` writes for each (differenced) count: the fewest n with
    -2**(5n-1) <= x < 2**(5n-1), i.e. ceil((bit length of x, or of ~x when negative, + 1 sign bit) / 5)."""
    magnitude = np.where(x >= 0, x, ~x)
    bits = np.frexp(magnitude.astype(np.float64))[1].astype(np.int64)  # bit length (exact below 2**53)
    return np.maximum((bits + 5) // 5, 1)


def _differenced(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    x = counts.copy()
    if len(x) > 3:
        x[3:] = counts[3:] - counts[1:-2]
    return x


def compress_counts(counts: npt.NDArray[np.int64] | list[int]) -> str:
    """``rleToString``: counts → the compressed COCO string (vectorised: each number's 5-bit groups at once)."""
    c = np.asarray(counts, dtype=np.int64)
    if not c.size:
        return ""
    x = _differenced(c)
    n = _groups(x)
    total = int(n.sum())
    first = np.cumsum(n) - n
    group = np.arange(total, dtype=np.int64) - np.repeat(first, n)
    chars = (np.repeat(x, n) >> (5 * group)) & 0x1F  # arithmetic shift: negative numbers keep their sign bits
    chars |= np.where(group < np.repeat(n, n) - 1, 0x20, 0)
    return (chars + 48).astype(np.uint8).tobytes().decode("ascii")


def is_canonical(s: str, counts: npt.NDArray[np.int64]) -> bool:
    """Whether ``s`` is exactly what ``compress_counts(counts)`` writes (every number in its fewest groups), for
    ``counts = decompress_counts(s)``: one comparison of group counts instead of re-encoding."""
    if not len(counts):
        return s == ""
    return int(_groups(_differenced(counts)).sum()) == len(s)


def decompress_counts(s: str) -> npt.NDArray[np.int64]:
    """``rleFrString``: the compressed COCO string → counts (RLEError on a character outside the alphabet)."""
    return _decompress(s)[0]


def _decompress(s: str) -> tuple[npt.NDArray[np.int64], bool]:
    """The counts of ``s`` and whether ``s`` is canonical (every number in its fewest groups, as `compress_counts`
    writes it).

    Vectorised: each character holds 5 bits of a number (little-endian) and a continuation bit; the last character of
    a number carries its sign in bit 4; from the fourth number on, a number is the difference to the one two places
    before it (so the counts are running sums over the even and over the odd positions from there)."""
    if not s:
        return np.zeros(0, dtype=np.int64), True
    try:
        raw = np.frombuffer(s.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    except UnicodeEncodeError as error:
        raise RLEError("The counts string has a character outside the COCO RLE alphabet (ASCII 48-111).") from error
    bad = np.flatnonzero((raw < 0) | (raw > 63))
    if len(bad):
        p = int(bad[0])
        raise RLEError(f"Character {s[p]!r} at {p} is not in the COCO RLE alphabet (ASCII 48-111).")
    last = (raw & 0x20) == 0  # the character ends its number
    if not last[-1]:
        raise RLEError("The counts string ends inside a number.")
    ends = np.flatnonzero(last)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(len(ends)), ends - starts + 1)
    shift = 5 * (np.arange(len(raw)) - starts[group])
    if shift.max() > 55:  # more than 11 characters: not a count of any mask this size
        raise RLEError("A count in the counts string is too long.")
    values = np.add.reduceat((raw & 0x1F) << shift, starts)
    negative = (raw[ends] & 0x10) != 0
    values = values - np.where(negative, np.left_shift(1, shift[ends] + 5), 0)
    canonical = bool((_groups(values) == ends - starts + 1).all())
    if len(values) > 3:
        values[3::2] = np.cumsum(np.concatenate(([values[1]], values[3::2])))[1:]
        values[4::2] = np.cumsum(np.concatenate(([values[2]], values[4::2])))[1:]
    return values, canonical


# --- encode / decode ------------------------------------------------------------------------------------------


def encode(mask: npt.ArrayLike) -> RLE:
    """A 2-D array (non-zero = set) → its RLE."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise RLEError(f"A mask is 2-D (height × width), got {m.ndim} dimensions.")
    h, w = m.shape
    flat = (m != 0).ravel(order="F")
    if flat.size == 0:
        return RLE(h, w, np.zeros(0, dtype=np.int64))
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    counts = np.diff(edges).astype(np.int64)
    if flat[0]:
        counts = np.concatenate(([0], counts))
    return RLE(h, w, counts)


def decode(rle: RLE) -> Mask:
    """The RLE → a ``height × width`` uint8 array of 0 and 1."""
    flat = np.zeros(rle.height * rle.width, dtype=np.uint8)
    starts, ends = rle.ones()
    if len(starts):
        # Mark each run's start with +1 and end with -1; the running sum is 1 inside runs.
        delta = np.zeros(flat.size + 1, dtype=np.int8)
        np.add.at(delta, starts, 1)
        np.add.at(delta, ends, -1)
        flat = np.cumsum(delta[:-1], dtype=np.int8).astype(np.uint8)
    return flat.reshape((rle.height, rle.width), order="F")


def from_document(doc: Any, *, height: int | None = None, width: int | None = None) -> RLE:
    """A ``{"size": [h, w], "counts": str | [int, ...]}`` document → RLE, checked (RLEError says what is wrong).

    ``counts`` may be the compressed string or the uncompressed list COCO uses for crowd regions. When ``height`` /
    ``width`` are given the mask must have exactly that size.
    """
    if type(doc) is not dict or set(doc) != {"size", "counts"}:
        raise RLEError('A mask is an object {"size": [height, width], "counts": "<COCO RLE>"}.')
    size = doc["size"]
    if type(size) is not list or len(size) != 2 or not all(type(v) is int and 0 < v <= 100_000 for v in size):
        raise RLEError("size must be [height, width], two positive integers.")
    h, w = size
    if height is not None and width is not None and (h, w) != (height, width):
        raise RLEError(f"The mask is {h}×{w} (height×width) but the image is {height}×{width}.")
    raw = doc["counts"]
    if type(raw) is str:
        if len(raw) > 8 * h * w + 16:
            raise RLEError("counts is longer than any mask of this size needs.")
        counts, canonical = _decompress(raw)
        text = raw if canonical else None
    elif type(raw) is list and all(type(v) is int for v in raw):
        counts = np.asarray(raw, dtype=np.int64)
        text = None
    else:
        raise RLEError("counts must be a COCO RLE string (or a list of run lengths).")
    if counts.size and (counts.min() < 0 or (counts[1:] == 0).any()):
        raise RLEError("counts has a negative or empty run.")
    if int(counts.sum()) != h * w:
        raise RLEError(f"The runs cover {int(counts.sum())} pixels, not height×width = {h * w}.")
    return RLE(h, w, counts, text)


# --- measures on the runs -------------------------------------------------------------------------------------


def measures(document: dict[str, Any]) -> dict[str, int]:
    """A normalized mask document's bounding box (x, y, width, height) and area, for the annotation row."""
    rle = RLE(document["size"][0], document["size"][1], decompress_counts(document["counts"]))
    x, y, w, h = bbox(rle)
    return {"x": x, "y": y, "width": w, "height": h, "area": area(rle)}


def area(rle: RLE) -> int:
    return int(rle.counts[1::2].sum())


def bbox(rle: RLE) -> tuple[int, int, int, int]:
    """Tight ``(x, y, width, height)`` of the set pixels, as ``toBbox``; (0, 0, 0, 0) for an empty mask."""
    starts, ends = rle.ones()
    if not len(starts):
        return (0, 0, 0, 0)
    h = rle.height
    last = ends - 1
    x0, y0 = np.divmod(starts, h)
    x1, y1 = np.divmod(last, h)
    xs, xe = int(x0.min()), int(x1.max())
    if (x1 > x0).any():  # a run crossing a column covers the bottom of one column and the top of the next
        ys, ye = 0, h - 1
    else:
        ys, ye = int(y0.min()), int(y1.max())
    return (xs, ys, xe - xs + 1, ye - ys + 1)


def intersection(a: RLE, b: RLE) -> int:
    """Pixels set in both (same size), from the runs (see `runs_intersection`)."""
    return runs_intersection(*a.ones(), *b.ones())


def runs_intersection(
    sa: npt.NDArray[np.int64], ea: npt.NDArray[np.int64], sb: npt.NDArray[np.int64], eb: npt.NDArray[np.int64]
) -> int:
    """Pixels covered by both run lists (sorted, disjoint, [start, end)): Σ over a's runs of how much of b lies
    before its end minus before its start, where "how much of b lies before p" comes from one binary search."""
    if not len(sa) or not len(sb):
        return 0
    before = np.cumsum(eb - sb) - (eb - sb)  # b's pixels in the runs before run j
    p = np.concatenate((ea, sa))
    j = np.searchsorted(sb, p, side="right") - 1  # the last b run starting at or before p
    k = np.maximum(j, 0)
    covered = np.where(j >= 0, before[k] + np.minimum(p, eb[k]) - sb[k], 0)  # b's pixels before p
    n = len(ea)
    return int(covered[:n].sum() - covered[n:].sum())


def iou(a: RLE, b: RLE, *, crowd: bool = False) -> float:
    """IoU of two masks; with ``crowd`` the union is ``a``'s area (COCO's iscrowd ground truth)."""
    if (a.height, a.width) != (b.height, b.width):
        raise RLEError(f"Masks of different sizes: {a.height}×{a.width} and {b.height}×{b.width}.")
    area_a, area_b = area(a), area(b)
    if area_a == 0 and area_b == 0:
        return 0.0
    ba, bb = bbox(a), bbox(b)
    if ba[0] >= bb[0] + bb[2] or bb[0] >= ba[0] + ba[2] or ba[1] >= bb[1] + bb[3] or bb[1] >= ba[1] + ba[3]:
        return 0.0
    inter = intersection(a, b)
    union = area_a if crowd else area_a + area_b - inter
    return inter / union if union else 0.0


def iou_matrix(dts: list[RLE], gts: list[RLE], crowd: list[bool] | None = None) -> npt.NDArray[np.float64]:
    """``len(dts) × len(gts)`` IoUs, as ``pycocotools.mask.iou(dts, gts, iscrowd)``."""
    out = np.zeros((len(dts), len(gts)), dtype=np.float64)
    for j, g in enumerate(gts):
        c = bool(crowd[j]) if crowd else False
        for i, d in enumerate(dts):
            out[i, j] = iou(d, g, crowd=c)
    return out


# --- polygon → mask, as pycocotools' rleFrPoly -------------------------------------------------------------------


def from_polygon(xy: list[float] | npt.ArrayLike, height: int, width: int) -> RLE:
    """A polygon ``[x0, y0, x1, y1, ...]`` (pixel coordinates) → its RLE, pixel for pixel as ``frPyObjects``.

    COCO's rasteriser: the outline is upsampled ×5, walked edge by edge, and each column's crossings become run
    boundaries (so a pixel is set when its centre is inside, with COCO's rounding on the boundary).
    """
    pts = np.asarray(xy, dtype=np.float64).reshape(-1)
    k = len(pts) // 2
    if k == 0:
        return RLE(height, width, np.asarray([height * width], dtype=np.int64))
    scale = 5.0
    x = [math.trunc(scale * pts[2 * j] + 0.5) for j in range(k)]
    y = [math.trunc(scale * pts[2 * j + 1] + 0.5) for j in range(k)]
    x.append(x[0])
    y.append(y[0])
    us: list[npt.NDArray[np.int64]] = []
    vs: list[npt.NDArray[np.int64]] = []
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe, ys, ye = xe, xs, ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx else 0.0
            d = np.arange(dx + 1)
            t = dx - d if flip else d
            us.append(t + xs)
            vs.append(np.trunc(ys + s * t + 0.5).astype(np.int64))
        else:
            s = (xe - xs) / dy
            d = np.arange(dy + 1)
            t = dy - d if flip else d
            vs.append(t + ys)
            us.append(np.trunc(xs + s * t + 0.5).astype(np.int64))
    u = np.concatenate(us)
    v = np.concatenate(vs)
    # Points where the upsampled outline changes column: one crossing of a pixel column's centre each.
    at = np.flatnonzero(u[1:] != u[:-1]) + 1
    xd = np.where(u[at] < u[at - 1], u[at], u[at] - 1).astype(np.float64)
    xd = (xd + 0.5) / scale - 0.5
    keep = (np.floor(xd) == xd) & (xd >= 0) & (xd <= width - 1)
    yd = np.where(v[at] < v[at - 1], v[at], v[at - 1]).astype(np.float64)
    yd = (yd + 0.5) / scale - 0.5
    yd = np.ceil(np.clip(yd, 0, height))
    a = np.concatenate((xd[keep].astype(np.int64) * height + yd[keep].astype(np.int64), [height * width]))
    a.sort(kind="stable")
    diffs = np.diff(np.concatenate(([0], a)))
    # Merge: a zero difference swallows the next run (two crossings at one pixel cancel).
    b: list[int] = [int(diffs[0])]
    i = 1
    n = len(diffs)
    while i < n:
        if diffs[i] > 0:
            b.append(int(diffs[i]))
            i += 1
        else:
            i += 1
            if i < n:
                b[-1] += int(diffs[i])
                i += 1
    return RLE(height, width, np.asarray(b, dtype=np.int64))


def from_polygons(polygons: list[list[float]], height: int, width: int) -> RLE:
    """Several polygons of one object → the union of their masks (as ``frPyObjects`` + ``merge``)."""
    if len(polygons) == 1:
        return from_polygon(polygons[0], height, width)
    merged = np.zeros((height, width), dtype=np.uint8)
    for p in polygons:
        merged |= decode(from_polygon(p, height, width))
    return encode(merged)
