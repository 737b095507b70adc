"""Geometry of one tool kind, prepared once and compared as whole nA×nB matrices.

Each kind has a `prepare_*` function (the raw shapes of some objects → arrays; consensus prepares the objects of all
labels of a feature in one call) and a matrix function:

- boxes: `box_iou_matrix` — intersection over union, vectorised in numpy.
- polygons: `polygon_iou_matrix` — IoU through shapely 2's array functions. An invalid polygon (self-intersecting,
  self-touching) is repaired with `make_valid` (its polygonal parts are kept); one that cannot be built (fewer than 3
  distinct points, non-finite coordinates) is empty: it has no area and its IoU with anything is 0.
- ner spans: `span_iou_matrix` — IoU of the character intervals `[start, end)`.
- points: `point_sq_distance_matrix` — squared distances, turned into a proximity by `proximity`.
- polylines: `polyline_distance_matrix` — the symmetric mean nearest-point distance: the mean over A's vertices of
  the distance to the nearest point of line B (any point of its segments, not only vertices), the same from B's
  vertices to line A, and the average of the two; turned into a proximity by `proximity` like points.

IoU is 0 when the union has no area (degenerate shapes match nothing, not even themselves). All results lie in
[0, 1] (IoU, proximity) or [0, inf] (distances; unusable geometry is infinitely far). Nothing here raises on bad
coordinates: non-finite numbers make a shape empty or infinitely far.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.intp]

# Smallest union used as a divisor: when the real union is 0 the intersection is 0 too, so the IoU is 0.
_TINY = 1e-300

_POLYGON_TYPES = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def as_float(value: Any) -> float:
    """A coordinate as a float; anything that is not a number is NaN."""
    if type(value) is bool:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _xy(point: Any) -> tuple[float, float]:
    if type(point) is not dict:
        return (math.nan, math.nan)
    return (as_float(point.get("x")), as_float(point.get("y")))


def _vertices(shape: Any) -> list[tuple[float, float]]:
    return [_xy(p) for p in shape] if type(shape) is list else []


# -- boxes ---------------------------------------------------------------------------------------------------------
def prepare_boxes(boxes: Sequence[dict[str, Any]]) -> FloatArray:
    """`{"top","left","height","width"}` dicts → an (n, 5) array of x0, y0, x1, y1, area.

    A box with a non-finite or negative size is made empty (area 0), so it matches nothing.
    """
    try:  # the usual case, in one pass: four numbers, a size that is not negative, finite corners and area
        flat: list[float] = []
        isfinite = math.isfinite
        for box in boxes:
            left = float(box["left"])
            top = float(box["top"])
            width = float(box["width"])
            height = float(box["height"])
            right = left + width
            bottom = top + height
            area = width * height
            if not (width >= 0.0 and height >= 0.0 and isfinite(right) and isfinite(bottom) and isfinite(area)):
                raise ValueError("an odd box")
            flat += (left, top, right, bottom, area)
        return np.array(flat, dtype=np.float64).reshape(-1, 5)
    except (KeyError, TypeError, ValueError, OverflowError):
        return _prepare_odd_boxes(boxes)


def _prepare_odd_boxes(boxes: Sequence[dict[str, Any]]) -> FloatArray:
    keys = ("left", "top", "width", "height")
    raw = np.array([[as_float(b.get(k)) if type(b) is dict else math.nan for k in keys] for b in boxes])
    raw = raw.reshape(-1, 4).astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.isfinite(raw).all(axis=1) | ~np.isfinite(raw[:, :2] + raw[:, 2:]).all(axis=1)
    raw[bad] = 0.0
    np.maximum(raw[:, 2:], 0.0, out=raw[:, 2:])
    out = np.empty((len(raw), 5), dtype=np.float64)
    out[:, :2] = raw[:, :2]
    out[:, 2:4] = raw[:, :2] + raw[:, 2:]
    out[:, 4] = raw[:, 2] * raw[:, 3]
    return out


def box_iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of `a` with every box of `b` (arrays from `prepare_boxes`) as an (nA, nB) matrix."""
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    wh = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    wh -= lo
    np.maximum(wh, 0.0, out=wh)
    inter: FloatArray = wh[..., 0] * wh[..., 1]
    union = a[:, None, 4] + b[None, :, 4]
    union -= inter
    np.fmax(union, _TINY, out=union)
    inter /= union
    return inter


# -- ner spans -----------------------------------------------------------------------------------------------------
def prepare_spans(locations: Sequence[dict[str, Any]]) -> FloatArray:
    """`{"start","end"}` dicts → an (n, 3) array of start, end, length (an empty or inverted span has length 0)."""
    raw = np.array([[as_float(s.get("start")), as_float(s.get("end"))] for s in locations], dtype=np.float64)
    raw = raw.reshape(-1, 2)
    bad = ~np.isfinite(raw).all(axis=1)
    if bad.any():
        raw[bad] = 0.0
    out = np.empty((len(raw), 3), dtype=np.float64)
    out[:, :2] = raw
    out[:, 2] = np.maximum(raw[:, 1] - raw[:, 0], 0.0)
    return out


def span_iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of the character intervals (end exclusive) of every span pair, an (nA, nB) matrix."""
    inter = np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0])
    np.maximum(inter, 0.0, out=inter)
    union = a[:, None, 2] + b[None, :, 2] - inter
    np.fmax(union, _TINY, out=union)
    result: FloatArray = inter / union
    return result


# -- points --------------------------------------------------------------------------------------------------------
def prepare_points(points: Sequence[dict[str, Any]]) -> FloatArray:
    """`{"x","y"}` dicts → an (n, 2) array (non-finite coordinates stay NaN: such a point is infinitely far)."""
    return np.array([_xy(p) for p in points], dtype=np.float64).reshape(-1, 2)


def point_sq_distance_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Squared euclidean distance of every point pair, an (nA, nB) matrix (inf where a coordinate is not finite)."""
    diff = a[:, None, :] - b[None, :, :]
    d2: FloatArray = np.einsum("ijk,ijk->ij", diff, diff)
    d2[np.isnan(d2)] = np.inf
    return d2


def proximity(sq_distance: FloatArray, sigma: float) -> FloatArray:
    """exp(-d² / (2σ²)): 1 for the same place, about 0.61 at one σ, 0 when infinitely far."""
    result: FloatArray = np.exp(sq_distance * (-0.5 / (sigma * sigma)))
    return result


# -- polygons ------------------------------------------------------------------------------------------------------
def _polygonal(geometry: Any) -> Any:
    """Repair an invalid polygon, keeping only its polygonal parts (make_valid may also return lines/points)."""
    repaired = shapely.make_valid(geometry)
    if shapely.get_type_id(repaired) in _POLYGON_TYPES:
        return repaired
    parts = shapely.get_parts(repaired)
    polygons = parts[np.isin(shapely.get_type_id(parts), _POLYGON_TYPES)]
    return shapely.union_all(polygons) if len(polygons) else shapely.Polygon()


def _one_polygon(coords: list[tuple[float, float]]) -> Any:
    if len(coords) < 3 or not np.isfinite(np.asarray(coords, dtype=np.float64)).all():
        return shapely.Polygon()
    try:
        polygon = shapely.Polygon(coords)
    except Exception:  # GEOS refuses the ring (e.g. too few distinct points)
        return shapely.Polygon()
    return polygon if shapely.is_valid(polygon) else _polygonal(polygon)


def prepare_polygons(polygons: Sequence[Sequence[dict[str, Any]]]) -> ObjectArray:
    """Lists of `{"x","y"}` vertices → an object array of valid shapely (multi)polygons (see the module rules)."""
    rings = [_vertices(polygon) for polygon in polygons]
    out = np.empty(len(rings), dtype=object)
    try:
        coords = np.array([xy for ring in rings for xy in ring], dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(coords).all() or any(len(ring) < 3 for ring in rings):
            raise ValueError("needs the careful path")
        indices = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
        built = shapely.polygons(shapely.linearrings(coords, indices=indices))
        invalid = ~shapely.is_valid(built)
        for k in np.flatnonzero(invalid).tolist():
            built[k] = _polygonal(built[k])
        out[:] = built
    except Exception:  # one bad ring spoils the vectorised build: build them one by one
        for k, ring in enumerate(rings):
            out[k] = _one_polygon(ring)
    return out


def polygon_iou_matrix(a: ObjectArray, b: ObjectArray) -> FloatArray:
    """IoU of every polygon pair (arrays from `prepare_polygons`), an (nA, nB) matrix."""
    area_a = shapely.area(a)
    area_b = shapely.area(b)
    try:
        inter = shapely.area(shapely.intersection(a[:, None], b[None, :]))
    except Exception:  # a GEOS topology error on some pair: score pair by pair, a failing pair has IoU 0
        inter = np.zeros((len(a), len(b)), dtype=np.float64)
        for i in range(len(a)):
            for j in range(len(b)):
                try:
                    inter[i, j] = shapely.area(shapely.intersection(a[i], b[j]))
                except Exception:
                    inter[i, j] = 0.0
    inter = np.nan_to_num(np.asarray(inter, dtype=np.float64), nan=0.0)
    union = area_a[:, None] + area_b[None, :] - inter
    np.fmax(union, _TINY, out=union)
    iou: FloatArray = np.clip(inter / union, 0.0, 1.0)
    return iou


# -- polylines -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lines:
    """Polylines of one feature: the shapely lines, all their vertices (as coordinates and as shapely points), and
    where each line's vertices start."""

    lines: ObjectArray
    coords: FloatArray
    vertices: ObjectArray
    starts: IntArray
    counts: IntArray


def _one_line(coords: list[tuple[float, float]]) -> Any:
    if not coords or not np.isfinite(np.asarray(coords, dtype=np.float64)).all():
        return shapely.LineString()
    if len(coords) == 1:
        return shapely.Point(coords[0])
    return shapely.LineString(coords)


def prepare_lines(lines: Sequence[Sequence[dict[str, Any]]]) -> Lines:
    """Lists of `{"x","y"}` vertices → `Lines`. A line without usable vertices is empty (infinitely far)."""
    coords = [_vertices(line) for line in lines]
    counts = np.array([len(c) for c in coords], dtype=np.intp)
    flat = np.array([xy for c in coords for xy in c], dtype=np.float64).reshape(-1, 2)
    geoms = np.empty(len(coords), dtype=object)
    for k, c in enumerate(coords):
        geoms[k] = _one_line(c)
    return Lines(geoms, flat, shapely.points(flat), _starts(counts), counts)


def _starts(counts: IntArray) -> IntArray:
    starts = np.zeros(len(counts), dtype=np.intp)
    if len(counts) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    return starts


def _mean_vertex_distance(source: Lines, target: Lines) -> FloatArray:
    """(nSource, nTarget): mean over each source line's vertices of the distance to each target line."""
    result = np.full((len(source.counts), len(target.counts)), np.inf)
    if not len(source.vertices) or not len(target.lines):
        return result
    with np.errstate(invalid="ignore"):
        d = shapely.distance(source.vertices[:, None], target.lines[None, :])
    d = np.where(np.isnan(d), np.inf, d)
    has = source.counts > 0
    sums = np.add.reduceat(d, source.starts[has], axis=0)
    result[has] = sums / source.counts[has, None]
    return result


def polyline_distance_matrix(a: Lines, b: Lines) -> FloatArray:
    """Symmetric mean nearest-point distance of every polyline pair, an (nA, nB) matrix."""
    result: FloatArray = (_mean_vertex_distance(a, b) + _mean_vertex_distance(b, a).T) * 0.5
    return result
