"""Pairing the objects of one feature between two labels.

Objects are paired one-to-one to maximise the total geometric score (the Hungarian assignment,
`scipy.optimize.linear_sum_assignment`); objects left over on the larger side are unmatched and score 0. The feature
score is the sum of the paired scores divided by max(nA, nB).

A pair's score may be weighted by the agreement of the two objects' nested classifications, applied after pairing:
the weight does not change which objects are paired, except to break ties — among pairings with the same geometric
total (closer than `TIE_BREAK` per pair), the one whose weights agree best wins. Without that, two identical boxes
with different nested answers could be cross-paired, and a label would not agree fully with itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

IntArray = npt.NDArray[np.intp]

_EMPTY = np.zeros(0, dtype=np.intp)
TIE_BREAK = 1e-9


def assign(scores: npt.NDArray[np.float64]) -> tuple[IntArray, IntArray]:
    """Rows and columns of the pairs that maximise the total score (ties: the solver's deterministic choice).

    One row or one column needs no solver: the best entry (the first one on ties) is the pairing.
    """
    n, m = scores.shape
    if n == 0 or m == 0:
        return _EMPTY, _EMPTY
    if n == 1:
        return np.zeros(1, dtype=np.intp), np.array([int(np.argmax(scores[0]))], dtype=np.intp)
    if m == 1:
        return np.array([int(np.argmax(scores[:, 0]))], dtype=np.intp), np.zeros(1, dtype=np.intp)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return rows, cols


def matched_score(scores: npt.NDArray[np.float64], weight: Callable[[int, int], float] | None = None) -> float:
    """Σ over the assigned pairs of scores[r, c] × weight(r, c), divided by max(nA, nB); 0 when one side is empty.

    `weight` is only asked about pairs with a positive geometric score (the product is 0 anyway otherwise). NaN or
    infinite entries (only possible from odd coordinates) count as 0.
    """
    n, m = scores.shape
    if n == 0 or m == 0:
        return 0.0
    if weight is not None:
        total = _matched_total(scores, weight)
    elif n == 1:  # one object on one side: its best partner
        total = max(scores[0].tolist())
    elif m == 1:
        total = max(scores[:, 0].tolist())
    else:
        try:
            rows, cols = linear_sum_assignment(scores, maximize=True)
            total = sum(scores[rows, cols].tolist())
        except ValueError:  # the solver refuses NaN or infinite entries
            total = math.nan
    if not math.isfinite(total):
        total = _matched_total(np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0), weight)
    return min(1.0, max(0.0, total / max(n, m)))


def _matched_total(scores: npt.NDArray[np.float64], weight: Callable[[int, int], float] | None) -> float:
    if weight is None:
        try:
            rows, cols = assign(scores)
        except ValueError:  # the solver refuses NaN or infinite entries
            return math.nan
        return sum(scores[rows, cols].tolist())
    weighted = np.zeros_like(scores)
    for r, c in zip(*np.nonzero(scores > 0.0), strict=True):
        weighted[r, c] = scores[r, c] * weight(int(r), int(c))
    try:
        rows, cols = assign(scores + TIE_BREAK * weighted)
    except ValueError:
        return math.nan
    return sum(weighted[rows, cols].tolist())
