"""COCO's 101-point interpolated average precision (`COCOeval.accumulate`), vectorised across classes.

Per class, the kept predictions of all images are ordered by descending score (ties: image index, then rank inside
the image — the order of COCO's stable sort over images concatenated in id order). With cumulative true/false
positives `tp`, `fp` and `npig` ground-truth boxes: `recall = tp / npig`, `precision = tp / (tp + fp + eps)`,
precision is made non-increasing from the right (the envelope), and at each recall threshold r in
{0, 0.01, ..., 1} the interpolated precision is the envelope at the first prediction whose recall >= r (0 when the
recall never reaches r). AP is the mean of those 101 values. A class without ground truth has no AP (NaN; COCO's -1)
and is left out of every mean.

The first index whose recall reaches r is found on integers (`tp >= m` with m the smallest integer such that
`m / npig >= r` in floating point), which is exactly COCO's `searchsorted(rc, r)` without comparing floats across
classes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from apps.diagnostics.domain.boxes import BoolArray, FloatArray, IntArray

#: The IoU thresholds of mAP@[.50:.95] and the recall thresholds, computed exactly as COCOeval's Params does.
COCO_IOU_THRESHOLDS: FloatArray = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS: FloatArray = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
_EPS = float(np.spacing(1))


def min_true_positives(npig: IntArray) -> IntArray:
    """(K, R): the smallest tp count whose recall `tp / npig` reaches each recall threshold (float semantics)."""
    n = np.maximum(npig, 1).astype(np.float64)[:, None]
    r = RECALL_THRESHOLDS[None, :]
    m = np.ceil(r * n)
    for _ in range(2):
        m = np.where((m > 0) & ((m - 1) / n >= r), m - 1, m)
        m = np.where(m / n < r, m + 1, m)
    return m.astype(np.int64)


def ap_order(category: IntArray, score: FloatArray, tiebreak: tuple[IntArray, ...]) -> IntArray:
    """COCO's order: by class, then descending score, then the `tiebreak` keys (most significant first)."""
    return np.lexsort((*reversed(tiebreak), -score, category))


def interpolated_precision(
    category: IntArray,
    score: FloatArray,
    tiebreak: tuple[IntArray, ...],
    true_positive: BoolArray,
    npig: IntArray,
) -> FloatArray:
    """(T, K, R) interpolated precision; rows of classes with `npig == 0` are NaN.

    `true_positive` is (T, n): whether each prediction is a true positive at each IoU threshold. `tiebreak` are
    extra sort keys (most significant first) applied after descending score.
    """
    tp_in = np.atleast_2d(np.asarray(true_positive, dtype=bool))
    order = ap_order(category, score, tiebreak)
    return interpolated_precision_sorted(category[order], tp_in[:, order], npig)


def interpolated_precision_sorted(cat: IntArray, tps: BoolArray, npig: IntArray) -> FloatArray:
    """`interpolated_precision` of predictions already in `ap_order` (`cat` their classes, `tps` (T, n))."""
    t_count = tps.shape[0]
    k_count = len(npig)
    r_count = len(RECALL_THRESHOLDS)
    out = np.zeros((t_count, k_count, r_count))
    out[:, npig == 0, :] = np.nan
    n = len(cat)
    if n == 0:
        return out
    bounds = np.searchsorted(cat, np.arange(k_count + 1))
    start_of = bounds[cat]
    zeros = np.zeros((t_count, 1), dtype=np.int64)
    ctp_all = np.concatenate([zeros, np.cumsum(tps, axis=1)], axis=1)
    cfp_all = np.concatenate([zeros, np.cumsum(~tps, axis=1)], axis=1)
    ctp = ctp_all[:, 1:] - ctp_all[:, start_of]
    cfp = cfp_all[:, 1:] - cfp_all[:, start_of]
    tp_f = ctp.astype(np.float64)
    precision = tp_f / (cfp.astype(np.float64) + tp_f + _EPS)
    # Envelope: running maximum from the right inside each class (a short loop over classes that count).
    for k in np.flatnonzero((np.diff(bounds) > 0) & (npig > 0)):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        block = precision[:, lo:hi]
        precision[:, lo:hi] = np.maximum.accumulate(block[:, ::-1], axis=1)[:, ::-1]
    need = min_true_positives(npig)  # (K, R)
    width = n + 1
    seg_key = cat[None, :] * width + ctp  # non-decreasing along each row
    queries = (np.arange(k_count)[:, None] * width + need).reshape(-1)
    ends = np.repeat(bounds[1:], r_count)
    valid_class = np.repeat(npig > 0, r_count)
    for t in range(t_count):
        pos = np.searchsorted(seg_key[t], queries, side="left")
        hit = (pos < ends) & valid_class
        values = np.zeros(len(queries))
        values[hit] = precision[t, pos[hit]]
        row = values.reshape(k_count, r_count)
        out[t] = np.where((npig > 0)[:, None], row, np.nan)
    return out


def ap_from_precision(q: FloatArray, npig: IntArray) -> FloatArray:
    """(T, K) AP from (T, K, R) interpolated precision; NaN for classes without ground truth."""
    out = np.full(q.shape[:2], np.nan)
    has = npig > 0
    out[:, has] = q[:, has, :].mean(axis=2)
    return out


def average_precision(
    category: IntArray,
    score: FloatArray,
    tiebreak: tuple[IntArray, ...],
    true_positive: npt.ArrayLike,
    npig: IntArray,
) -> FloatArray:
    """(T, K) average precision (mean of the 101 interpolated precisions); NaN for classes without ground truth."""
    q = interpolated_precision(category, score, tiebreak, np.asarray(true_positive, dtype=bool), npig)
    return ap_from_precision(q, npig)


def nan_mean(values: FloatArray) -> float:
    """Mean of the non-NaN values (NaN when there are none), without numpy's empty-slice warning."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
