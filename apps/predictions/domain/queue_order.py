"""Active learning scores and the queue order they make, pure numpy.

Rows are positions `0..n-1`; a score is higher for a row worth labeling sooner, NaN when unknown (no prediction,
no vector). `queue_ranks` turns scores into the stored ranks (lowest claimed first; unknown rows unranked, after
the others).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Distances are computed for this many (candidate × labeled) pairs at a time: bounded memory (~32 MB of float32).
PAIRS_PER_BATCH = 8_000_000


def least_confidence(rows: IntArray, confidence: FloatArray, n: int) -> FloatArray:
    """Per row: 1 − the lowest confidence among its predictions (NaN without one)."""
    low = np.full(n, np.inf)
    np.minimum.at(low, np.asarray(rows, dtype=np.intp), np.clip(np.asarray(confidence, dtype=np.float64), 0, 1))
    out = 1.0 - low
    out[np.isinf(low)] = np.nan
    return out


def binary_entropy(p: FloatArray) -> FloatArray:
    """Entropy in bits of a yes/no prediction of confidence p (1 at p = 0.5, 0 at 0 and 1)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.nan_to_num(h, nan=0.0)


def max_entropy(rows: IntArray, confidence: FloatArray, n: int) -> FloatArray:
    """Per row: the highest entropy among its predictions (NaN without one)."""
    high = np.full(n, -np.inf)
    np.maximum.at(high, np.asarray(rows, dtype=np.intp), binary_entropy(confidence))
    high[np.isinf(high)] = np.nan
    return high


def nearest_distance(
    candidates: npt.NDArray[np.float32], labeled: npt.NDArray[np.float32], *, pairs: int = PAIRS_PER_BATCH
) -> FloatArray:
    """Cosine distance (1 − similarity, in [0, 2]) of each candidate to its nearest labeled row; rows are unit
    length. Batched over both sides so memory stays bounded. With nothing labeled every candidate is at 1."""
    n = candidates.shape[0]
    if labeled.shape[0] == 0:
        return np.ones(n)
    best = np.full(n, -np.inf, dtype=np.float32)
    step_l = max(1, min(labeled.shape[0], pairs))
    step_c = max(1, pairs // step_l)
    for c in range(0, n, step_c):
        block = candidates[c : c + step_c]
        for start in range(0, labeled.shape[0], step_l):
            sims = block @ labeled[start : start + step_l].T
            np.maximum(best[c : c + step_c], sims.max(axis=1), out=best[c : c + step_c])
    return 1.0 - best.astype(np.float64)


def percentiles(scores: FloatArray) -> FloatArray:
    """Each known score's rank among the known ones scaled to [0, 1] (ties share the lower rank); NaN stays NaN.
    Puts scores of different kinds on one scale before they are mixed."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.full(scores.shape, np.nan)
    known = np.flatnonzero(np.isfinite(scores))
    if known.size == 0:
        return out
    values = scores[known]
    order = np.sort(values)
    out[known] = np.searchsorted(order, values, side="left") / max(1, known.size - 1)
    return out


def mix(parts: Mapping[str, FloatArray], weights: Mapping[str, float]) -> FloatArray:
    """Weighted sum of the parts' percentiles (an unknown part counts 0); NaN where every weighted part is unknown."""
    total: FloatArray | None = None
    known: npt.NDArray[np.bool_] | None = None
    for name, scores in parts.items():
        weight = float(weights.get(name, 0.0))
        if weight <= 0:
            continue
        p = percentiles(scores)
        term = weight * np.nan_to_num(p, nan=0.0)
        total = term if total is None else total + term
        has = np.isfinite(p)
        known = has if known is None else (known | has)
    if total is None or known is None:
        n = len(next(iter(parts.values()))) if parts else 0
        return np.full(n, np.nan)
    return np.where(known, total, np.nan)


def queue_ranks(scores: FloatArray) -> list[float | None]:
    """The stored rank of each row: its negated score (lowest rank claimed first), rounded so a recompute with the
    same inputs writes nothing; None for an unknown score (claimed after the ranked rows, by age). A rank that is
    the score itself, not a position, does not move when other rows leave the queue."""
    return [None if not np.isfinite(s) else round(-float(s), 9) + 0.0 for s in np.asarray(scores, dtype=np.float64)]
