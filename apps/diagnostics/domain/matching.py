"""Greedy matching of predictions to ground truth, vectorised across groups and IoU thresholds.

The rule is COCO's (`COCOeval.evaluateImg`): inside a group (an image and class, or an image), predictions are taken
in descending score (ties: lower input index first); each takes, among the ground-truth boxes of its group not yet
taken, the one with the highest IoU provided that IoU >= the threshold (ties: the later ground-truth box in input
order, as COCO's loop does); a ground-truth box is taken at most once.

Groups are independent, so the k-th prediction of every group is matched in the same numpy round: the number of rounds
is the largest number of candidate predictions in one group, not the number of predictions.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from apps.diagnostics.domain.boxes import BoolArray, FloatArray, IntArray

#: COCO compares `iou >= min(t, 1 - 1e-10)`, so a threshold of 1.0 still accepts (almost) exact boxes.
_MAX_THRESHOLD = 1 - 1e-10


def dense_groups(*keys: IntArray) -> tuple[IntArray, ...]:
    """Dense group codes for several arrays of int64 keys that share one key space (same key → same code)."""
    sizes = [len(k) for k in keys]
    if sum(sizes) == 0:
        return tuple(np.zeros(0, np.int64) for _ in keys)
    _, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    inverse = inverse.astype(np.int64).reshape(-1)
    return tuple(np.split(inverse, np.cumsum(sizes)[:-1]))


def overlapping_pairs(
    a_group: IntArray, a_xywh: FloatArray, b_group: IntArray, b_xywh: FloatArray
) -> tuple[IntArray, IntArray]:
    """Candidate pairs (i, j) with `a_group[i] == b_group[j]` that may overlap: every pair whose boxes overlap with
    a positive area (IoU > 0) is included, most disjoint pairs are not. Unordered.

    A sweep on x: `b` is sorted by (group, left edge); for each `a` box the `b` boxes of its group whose left edge
    lies in [a.left - widest b of the group, a.right] are taken in one vectorised range expansion. Crowded images
    then cost about (boxes × overlapping neighbours), not boxes².
    """
    if len(a_group) == 0 or len(b_group) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n_groups = int(max(a_group.max(), b_group.max())) + 1
    widest = np.zeros(n_groups)
    np.maximum.at(widest, b_group, b_xywh[:, 2])
    left = min(float(a_xywh[:, 0].min()), float(b_xywh[:, 0].min()))
    right = max(float((a_xywh[:, 0] + a_xywh[:, 2]).max()), float((b_xywh[:, 0] + b_xywh[:, 2]).max()))
    span = (right - left) + 2 * float(widest.max()) + 1.0
    b_key = b_group * span + (b_xywh[:, 0] - left)
    order = np.argsort(b_key, kind="stable")
    b_sorted = b_key[order]
    # A small tolerance keeps the window a superset despite rounding of the composite keys.
    tol = 1e-9 * (abs(float(b_sorted[-1])) + span) + 1e-9
    base = a_group * span - left
    lo = np.searchsorted(b_sorted, base + a_xywh[:, 0] - widest[a_group] - tol, side="left")
    hi = np.searchsorted(b_sorted, base + a_xywh[:, 0] + a_xywh[:, 2] + tol, side="right")
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    a_idx = np.repeat(np.arange(len(a_group), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    b_idx = order[np.repeat(lo, counts) + offsets].astype(np.int64)
    same = b_group[b_idx] == a_group[a_idx]  # the tolerance may reach into a neighbouring group
    return a_idx[same], b_idx[same]


def rank_within_groups(group: IntArray, score: FloatArray) -> IntArray:
    """0-based rank of each item inside its group by descending score, ties by ascending input index."""
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((np.arange(n), -score, group))
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    return rank


def greedy_match(
    pair_a: IntArray,
    pair_b: IntArray,
    pair_iou: FloatArray,
    a_group: IntArray,
    a_score: FloatArray,
    n_a: int,
    n_b: int,
    thresholds: npt.ArrayLike,
) -> tuple[IntArray, FloatArray]:
    """Greedy one-to-one matching of `a` (predictions) to `b` (ground truth), once per IoU threshold.

    `pair_*` are the candidate pairs (only pairs inside one group); `a_group`/`a_score` give each prediction's
    group and score (processing order inside a group: descending score, then ascending index). Returns
    `(match, iou)` of shape (T, n_a): the matched `b` index (-1 when unmatched) and the pair's IoU (0 when
    unmatched).
    """
    thr = np.minimum(np.asarray(thresholds, dtype=np.float64).reshape(-1), _MAX_THRESHOLD)
    t_count = len(thr)
    match = np.full((t_count, n_a), -1, dtype=np.int64)
    match_iou = np.zeros((t_count, n_a))
    if len(pair_a) == 0 or t_count == 0:
        return match, match_iou
    keep = pair_iou >= thr.min()
    pa, pb, pi = pair_a[keep], pair_b[keep], pair_iou[keep]
    if len(pa) == 0:
        return match, match_iou
    # Re-rank only the predictions that have a candidate: rounds = most candidates in one group.
    candidates = np.unique(pa)
    local = np.full(n_a, -1, dtype=np.int64)
    cand_order = np.lexsort((candidates, -a_score[candidates], a_group[candidates]))
    ordered = candidates[cand_order]
    grp = a_group[ordered]
    starts = np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]])
    local[ordered] = np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
    rounds = local[pa]
    order = np.lexsort((pb, pa, rounds))
    pa, pb, pi, rounds = pa[order], pb[order], pi[order], rounds[order]
    bounds = np.searchsorted(rounds, np.arange(int(rounds[-1]) + 2))
    taken = np.zeros((t_count, n_b), dtype=bool)
    thr_col = thr[:, None]
    for k in range(len(bounds) - 1):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if lo == hi:
            continue
        ra, rb, ri = pa[lo:hi], pb[lo:hi], pi[lo:hi]
        seg_starts = np.flatnonzero(np.r_[True, ra[1:] != ra[:-1]])
        seg_of = np.repeat(np.arange(len(seg_starts)), np.diff(np.r_[seg_starts, len(ra)]))
        valid = (ri >= thr_col) & ~taken[:, rb]
        values = np.where(valid, ri, -1.0)
        best = np.maximum.reduceat(values, seg_starts, axis=1)
        chosen = valid & (values == best[:, seg_of])
        position = np.where(chosen, np.arange(len(ra)), -1)
        last = np.maximum.reduceat(position, seg_starts, axis=1)
        t_idx, s_idx = np.nonzero(last >= 0)
        p = last[t_idx, s_idx]
        match[t_idx, ra[p]] = rb[p]
        match_iou[t_idx, ra[p]] = ri[p]
        taken[t_idx, rb[p]] = True
    return match, match_iou


def mask_indices(mask: BoolArray) -> IntArray:
    return np.flatnonzero(mask).astype(np.int64)
