"""Exact cosine k-nearest-neighbour search over a normalised float32 matrix."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def knn(
    matrix: npt.NDArray[np.float32],
    query: npt.NDArray[np.float32],
    k: int,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
    exclude: int | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Positions and cosine similarities of the `k` rows most similar to `query`, best first.

    `matrix` rows and `query` must be unit length (cosine = dot product). `mask` keeps only rows where it is True;
    `exclude` drops one position (the query row itself). One matrix-vector product + `argpartition`: O(n·d).
    """
    if k <= 0 or matrix.shape[0] == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    scores = matrix @ query.astype(np.float32, copy=False)
    if mask is not None or exclude is not None:
        scores = scores.copy() if mask is None else np.where(mask, scores, -np.inf).astype(np.float32)
        if exclude is not None:
            scores[exclude] = -np.inf
        available = int(np.count_nonzero(np.isfinite(scores)))
    else:
        available = scores.shape[0]
    k = min(k, available)
    if k == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    order = np.lexsort((top, -scores[top]))  # by similarity, ties by position: deterministic
    top = top[order]
    return top.astype(np.intp), scores[top].astype(np.float32)


def knn_any(
    matrix: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    k: int,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
    batch: int = 4096,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Like `knn` for several unit queries at once: a row's score is its best cosine to any query. Rows are scored
    in batches (memory: batch × queries floats)."""
    if matrix.shape[0] == 0 or queries.shape[0] == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
    best = np.empty(matrix.shape[0], dtype=np.float32)
    q = queries.astype(np.float32, copy=False).T
    for start in range(0, matrix.shape[0], batch):
        best[start : start + batch] = (matrix[start : start + batch] @ q).max(axis=1)
    ones = np.ones(1, dtype=np.float32)
    # `knn` on the best scores: a 1-d "matrix" with the query 1 ranks rows by their score.
    return knn(best[:, None], ones, k, mask=mask)


def brute_force_knn(
    matrix: npt.NDArray[np.float32], query: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Reference implementation for tests: full sort in float64."""
    scores = matrix.astype(np.float64) @ query.astype(np.float64)
    order = np.lexsort((np.arange(scores.shape[0]), -scores))[:k]
    return order.astype(np.intp), scores[order]
