"""Tracking metrics of track predictions against ground-truth tracks (pure): CLEAR MOT (MOTA, MOTP, ID switches)
and the identity metrics (IDF1, IDP, IDR), as the MOT Challenge defines them.

Input: per frame, the ground-truth and predicted objects as `(id, (left, top, width, height))`. A pair can match
on a frame when IoU ≥ `min_iou` (0.5 by default).

CLEAR MOT, frame by frame: a ground-truth object matched on its previous frame keeps its prediction when they still
overlap enough; the rest are matched by the Hungarian assignment minimising Σ (1 − IoU), a pair below `min_iou`
costing 2·max + 1 (as py-motmetrics does). A match whose prediction differs from the one the object last matched is
an ID switch.
MOTA = 1 − (misses + false positives + ID switches) / ground-truth objects; MOTP = mean (1 − IoU) of the matches.

Identity metrics: ground-truth and predicted ids are paired one-to-one (globally, over all frames) to maximise the
number of frames where a pair overlaps enough (IDTP). IDF1 = 2·IDTP / (ground-truth objects + predicted objects).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

Box = tuple[float, float, float, float]
Frame = Sequence[tuple[Hashable, Box]]


@dataclass(frozen=True)
class TrackingMetrics:
    mota: float
    motp: float
    idf1: float
    idp: float
    idr: float
    id_switches: int
    misses: int
    false_positives: int
    matches: int
    objects: int
    predictions: int


def iou_distance(gt: Sequence[Box], pred: Sequence[Box], min_iou: float) -> np.ndarray:
    """1 − IoU for every (ground truth, prediction) pair; NaN where IoU < `min_iou`."""
    if not gt or not pred:
        return np.full((len(gt), len(pred)), np.nan)
    a = np.asarray(gt, dtype=float)
    b = np.asarray(pred, dtype=float)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    width = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0, None], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1, None], b[None, :, 1]), 0, None)
    inter = width * height
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        distance = 1 - np.where(union > 0, inter / union, 0.0)
    distance[distance > 1 - min_iou] = np.nan
    return distance


def _assign(distance: np.ndarray) -> list[tuple[int, int]]:
    """Min total distance over the allowed pairs (NaN = not allowed), not-allowed pairs costing 2·max + 1 as in
    py-motmetrics (the reference implementation the tests compare with)."""
    if distance.size == 0 or not np.isfinite(distance).any():
        return []
    finite = np.isfinite(distance)
    penalty = 2 * float(np.nanmax(distance)) + 1
    cost = np.where(finite, distance, penalty)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if finite[i, j]]


def tracking_metrics(
    ground_truth: Mapping[int, Frame], predictions: Mapping[int, Frame], *, min_iou: float = 0.5
) -> TrackingMetrics:
    frames = sorted(set(ground_truth) | set(predictions))
    last_match: dict[Hashable, Hashable] = {}
    misses = false_positives = switches = matches = objects = predicted = 0
    distance_sum = 0.0
    gt_counts: dict[Hashable, int] = {}
    pred_counts: dict[Hashable, int] = {}
    overlap: dict[tuple[Hashable, Hashable], int] = {}
    for frame in frames:
        gt = list(ground_truth.get(frame, ()))
        pred = list(predictions.get(frame, ()))
        objects += len(gt)
        predicted += len(pred)
        distance = iou_distance([g[1] for g in gt], [p[1] for p in pred], min_iou)
        for g_id, _ in gt:
            gt_counts[g_id] = gt_counts.get(g_id, 0) + 1
        for p_id, _ in pred:
            pred_counts[p_id] = pred_counts.get(p_id, 0) + 1
        for i, j in zip(*np.nonzero(np.isfinite(distance)), strict=True):
            key = (gt[i][0], pred[j][0])
            overlap[key] = overlap.get(key, 0) + 1
        gt_done = np.zeros(len(gt), dtype=bool)
        pred_done = np.zeros(len(pred), dtype=bool)
        pred_index = {p[0]: j for j, p in enumerate(pred)}
        for i, (g_id, _box) in enumerate(gt):  # keep last frame's correspondences that still hold
            j = pred_index.get(last_match.get(g_id, object()))
            if j is not None and not pred_done[j] and np.isfinite(distance[i, j]):
                gt_done[i] = pred_done[j] = True
                matches += 1
                distance_sum += float(distance[i, j])
        rest = distance.copy()
        rest[gt_done, :] = np.nan
        rest[:, pred_done] = np.nan
        for i, j in _assign(rest):
            g_id, p_id = gt[i][0], pred[j][0]
            if g_id in last_match and last_match[g_id] != p_id:
                switches += 1
            last_match[g_id] = p_id
            gt_done[i] = pred_done[j] = True
            matches += 1
            distance_sum += float(distance[i, j])
        misses += int(np.count_nonzero(~gt_done))
        false_positives += int(np.count_nonzero(~pred_done))
    idtp = _identity_true_positives(gt_counts, pred_counts, overlap)
    return TrackingMetrics(
        mota=1 - (misses + false_positives + switches) / objects if objects else float("nan"),
        motp=distance_sum / matches if matches else float("nan"),
        idf1=2 * idtp / (objects + predicted) if objects + predicted else float("nan"),
        idp=idtp / predicted if predicted else float("nan"),
        idr=idtp / objects if objects else float("nan"),
        id_switches=switches,
        misses=misses,
        false_positives=false_positives,
        matches=matches,
        objects=objects,
        predictions=predicted,
    )


def _identity_true_positives(
    gt_counts: dict[Hashable, int], pred_counts: dict[Hashable, int], overlap: dict[tuple[Hashable, Hashable], int]
) -> int:
    if not overlap:
        return 0
    gt_ids = list(gt_counts)
    pred_ids = list(pred_counts)
    gt_pos = {g: n for n, g in enumerate(gt_ids)}
    pred_pos = {p: n for n, p in enumerate(pred_ids)}
    gain = np.zeros((len(gt_ids), len(pred_ids)))
    for (g, p), count in overlap.items():
        gain[gt_pos[g], pred_pos[p]] = count
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return int(gain[rows, cols].sum())
