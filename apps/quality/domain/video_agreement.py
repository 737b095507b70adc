"""Agreement of two video labels of the same row (pure): tracks compared frame by frame, paired by maximum total
agreement; per-frame and whole-video classifications.

**Track agreement** — for two tracks of the same feature: the per-frame similarity averaged over the union of the
frames where either track is visible (a frame where only one is visible scores 0). Per-frame similarity: IoU for
boxes; IoU for polygons (shapely; an invalid polygon is repaired with make_valid); for points exp(-d²/(2σ²)) with
σ = `point_sigma` × the frame diagonal (as images do). Polyline tracks are not scored (the feature is left out).

**Feature score** (per tool feature): tracks of A and B paired one-to-one by the Hungarian assignment that maximises
the total track agreement; Σ paired agreements / max(nA, nB).

**Classifications** — whole-video answers: the image rule (`classifications.answer_agreement`). Per-frame answers
(with `frames` ranges): per feature, the mean over the frames covered by either label of the agreement of the answers
on that frame (0 where only one label answers).

**Label score** — the mean of the feature scores over the features present in either label; two empty labels agree
1.0. agreement(a, b) = agreement(b, a); agreement(a, a) = 1.0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment

from apps.ontologies.domain.video import FrameClassification, Track, document_from_items
from apps.quality.domain.classifications import answer_agreement

SCORED_TOOLS = frozenset({"bbox", "polygon", "point"})


@dataclass(frozen=True)
class VideoAgreement:
    score: float
    features: dict[str, float]
    pairs: dict[str, list[tuple[str, str, float]]]  # feature → (track of A, track of B, agreement)


def _dense(track: Track, frame_count: int) -> tuple[np.ndarray, Any]:
    """Visible mask over the frames and the shapes (boxes as an (n, 4) x1,y1,x2,y2 array, else a list)."""
    if track.tool == "bbox":
        return _dense_boxes(track, frame_count)
    visible = np.zeros(frame_count, dtype=bool)
    shapes: list[Any] = [None] * frame_count
    for frame, geometry, _key in track.frames(frame_count):
        visible[frame] = True
        shapes[frame] = geometry
    return visible, shapes


def _ltwh(box: dict[str, float]) -> np.ndarray:
    return np.array([box["left"], box["top"], box["width"], box["height"]], dtype=float)


def _dense_boxes(track: Track, frame_count: int) -> tuple[np.ndarray, np.ndarray]:
    """`Track.frames` for boxes, one keyframe segment at a time in numpy (same shapes, no per-frame Python)."""
    visible = np.zeros(frame_count, dtype=bool)
    ltwh = np.full((frame_count, 4), np.nan)
    end = min(track.last_frame(frame_count), frame_count - 1)
    keys = track.keyframes
    for i, key in enumerate(keys):
        if key.outside or key.frame > end:
            continue
        after = keys[i + 1] if i + 1 < len(keys) else None
        stop = min(after.frame - 1 if after is not None else end, end)
        frames = np.arange(key.frame, stop + 1)
        start = _ltwh(key.geometry)
        if after is not None and not after.outside:
            t = (frames - key.frame) / (after.frame - key.frame)
            ltwh[frames] = start + (_ltwh(after.geometry) - start) * t[:, None]
        else:
            ltwh[frames] = start
        visible[frames] = True
    boxes = np.column_stack([ltwh[:, 0], ltwh[:, 1], ltwh[:, 0] + ltwh[:, 2], ltwh[:, 1] + ltwh[:, 3]])
    return visible, boxes


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    height = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = width * height
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(iou)


def _polygon(points: list[dict[str, float]]) -> Any:
    polygon = shapely.Polygon([(p["x"], p["y"]) for p in points])
    return polygon if polygon.is_valid else shapely.make_valid(polygon)


def _frame_similarity(tool: str, a: Any, b: Any, sigma: float) -> float:
    if tool == "point":
        d2 = (a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2
        return float(np.exp(-d2 / (2 * sigma * sigma)))
    pa, pb = _polygon(a), _polygon(b)
    union = pa.union(pb).area
    return float(pa.intersection(pb).area / union) if union > 0 else 0.0


def track_agreement(a: Track, b: Track, frame_count: int, *, sigma: float = 1.0) -> float:
    """Per-frame similarity averaged over the union of the frames where either track is visible."""
    return _dense_agreement(a.tool, _dense(a, frame_count), _dense(b, frame_count), sigma)


def _dense_agreement(
    tool: str, dense_a: tuple[np.ndarray, Any], dense_b: tuple[np.ndarray, Any], sigma: float
) -> float:
    (visible_a, shapes_a), (visible_b, shapes_b) = dense_a, dense_b
    union = int(np.count_nonzero(visible_a | visible_b))
    if union == 0:
        return 0.0
    both = visible_a & visible_b
    if tool == "bbox":
        total = float(_box_iou(shapes_a[both], shapes_b[both]).sum())
    else:
        total = sum(_frame_similarity(tool, shapes_a[f], shapes_b[f], sigma) for f in np.flatnonzero(both))
    return total / union


def _pair(tracks_a: list[Track], tracks_b: list[Track], frame_count: int, sigma: float) -> tuple[float, list[Any]]:
    if not tracks_a or not tracks_b:
        return 0.0, []
    dense_a = [_dense(t, frame_count) for t in tracks_a]  # each track made dense once, not once per pair
    dense_b = [_dense(t, frame_count) for t in tracks_b]
    tool = tracks_a[0].tool
    matrix = np.array([[_dense_agreement(tool, x, y, sigma) for y in dense_b] for x in dense_a])
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    pairs = [(tracks_a[i].track_id, tracks_b[j].track_id, float(matrix[i, j])) for i, j in zip(rows, cols, strict=True)]
    return sum(p[2] for p in pairs) / max(len(tracks_a), len(tracks_b)), pairs


def _answer_on(items: list[FrameClassification], frame: int) -> Any:
    for item in items:
        if item.covers(frame):
            return item
    return None


def _per_frame(a: list[FrameClassification], b: list[FrameClassification], frame_count: int) -> float:
    total = 0.0
    union = 0
    for frame in range(frame_count):
        x, y = _answer_on(a, frame), _answer_on(b, frame)
        if x is None and y is None:
            continue
        union += 1
        if x is not None and y is not None:
            total += answer_agreement(x.answer, y.answer)
    return total / union if union else 1.0


def video_agreement(
    a: list[dict[str, Any]],
    b: list[dict[str, Any]],
    *,
    frame_count: int,
    image_size: tuple[float, float] | None = None,
    point_sigma: float = 0.01,
) -> VideoAgreement:
    """Agreement of video label `a` with video label `b` (normalized documents; rules in the module docstring)."""
    docs = document_from_items(a), document_from_items(b)
    sigma = point_sigma * (float(np.hypot(*image_size)) if image_size else 1.0)
    tracks: list[dict[str, list[Track]]] = [defaultdict(list), defaultdict(list)]
    answers: list[dict[str, list[FrameClassification]]] = [defaultdict(list), defaultdict(list)]
    whole: list[dict[str, FrameClassification]] = [{}, {}]
    for side, doc in enumerate(docs):
        for track in doc.tracks:
            if track.tool in SCORED_TOOLS:
                tracks[side][track.schema_id].append(track)
        for item in doc.classifications:
            if item.ranges:
                answers[side][item.schema_id].append(item)
            else:
                whole[side][item.schema_id] = item
    features: dict[str, float] = {}
    pairs: dict[str, list[tuple[str, str, float]]] = {}
    for schema_id in sorted(set(tracks[0]) | set(tracks[1])):
        features[schema_id], pairs[schema_id] = _pair(
            tracks[0].get(schema_id, []), tracks[1].get(schema_id, []), frame_count, sigma
        )
    for schema_id in sorted(set(answers[0]) | set(answers[1])):
        features[schema_id] = _per_frame(answers[0].get(schema_id, []), answers[1].get(schema_id, []), frame_count)
    for schema_id in sorted(set(whole[0]) | set(whole[1])):
        x, y = whole[0].get(schema_id), whole[1].get(schema_id)
        features[schema_id] = answer_agreement(x.answer, y.answer) if x is not None and y is not None else 0.0
    score = sum(features.values()) / len(features) if features else 1.0
    return VideoAgreement(score=score, features=features, pairs=pairs)
