"""Projection (PCA by SVD), clusters (seeded k-means++ / Lloyd) and outlier scores (mean k-NN distance)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FIT_SAMPLE_MAX = 50_000
OUTLIER_REFERENCE_MAX = 20_000
Array = npt.NDArray[Any]


@dataclass(frozen=True)
class Pca:
    mean: npt.NDArray[np.float64]
    components: npt.NDArray[np.float64]  # (n_components, dims), rows orthonormal
    explained_variance_ratio: npt.NDArray[np.float64]

    def transform(self, matrix: Array) -> npt.NDArray[np.float32]:
        return ((np.asarray(matrix, dtype=np.float64) - self.mean) @ self.components.T).astype(np.float32)


def sample_positions(n: int, limit: int, seed: int) -> npt.NDArray[np.intp]:
    if n <= limit:
        return np.arange(n, dtype=np.intp)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.intp)


def pca_fit(matrix: Array, n_components: int = 2, *, sample_max: int = FIT_SAMPLE_MAX, seed: int = 0) -> Pca:
    """Principal axes of the rows (fit on a seeded sample of at most `sample_max` rows).

    Each axis' sign is fixed so that its largest-magnitude loading is positive: the result does not depend on the
    SVD implementation's arbitrary signs.
    """
    data = np.asarray(matrix, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError("PCA needs a non-empty 2-D matrix.")
    fit = data[sample_positions(data.shape[0], sample_max, seed)]
    mean = fit.mean(axis=0)
    centered = fit - mean
    _, singular, vt = np.linalg.svd(centered, full_matrices=False)
    n_components = min(n_components, vt.shape[0])
    components = vt[:n_components].copy()
    for i in range(n_components):
        if components[i, np.argmax(np.abs(components[i]))] < 0:
            components[i] = -components[i]
    variance = singular**2
    total = float(variance.sum())
    ratio = variance[:n_components] / total if total > 0 else np.zeros(n_components)
    if components.shape[0] < 2 and n_components < 2:
        pass
    return Pca(mean=mean, components=components, explained_variance_ratio=ratio)


def project_2d(
    matrix: Array, *, sample_max: int = FIT_SAMPLE_MAX, seed: int = 0
) -> tuple[npt.NDArray[np.float32], Pca]:
    """2-D coordinates of every row (a zero second axis when the data has only one dimension of spread)."""
    pca = pca_fit(matrix, 2, sample_max=sample_max, seed=seed)
    coords = pca.transform(matrix)
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]), dtype=np.float32)])
    return coords, pca


def _squared_distances(points: npt.NDArray[np.float64], centers: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    d = (points**2).sum(axis=1)[:, None] - 2.0 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
    return np.maximum(d, 0.0)


def kmeans_plus_plus(points: npt.NDArray[np.float64], k: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    n = points.shape[0]
    centers = np.empty((k, points.shape[1]), dtype=np.float64)
    centers[0] = points[rng.integers(n)]
    closest = _squared_distances(points, centers[:1])[:, 0]
    for i in range(1, k):
        total = closest.sum()
        index = int(rng.integers(n)) if total <= 0 else int(rng.choice(n, p=closest / total))
        centers[i] = points[index]
        closest = np.minimum(closest, _squared_distances(points, centers[i : i + 1])[:, 0])
    return centers


@dataclass(frozen=True)
class KMeansResult:
    labels: npt.NDArray[np.int32]
    centers: npt.NDArray[np.float64]
    inertia: float
    iterations: int


def kmeans(
    matrix: Array,
    k: int,
    *,
    seed: int = 0,
    max_iter: int = 50,
    tol: float = 1e-6,
    sample_max: int = FIT_SAMPLE_MAX,
) -> KMeansResult:
    """Seeded k-means (k-means++ start, Lloyd iterations) fit on at most `sample_max` rows; every row is assigned.

    The same input and seed give the same labels. Empty clusters are re-seeded with the farthest point.
    """
    data = np.asarray(matrix, dtype=np.float64)
    n = data.shape[0]
    if n == 0:
        raise ValueError("k-means needs at least one row.")
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the number of rows ({n}).")
    rng = np.random.default_rng(seed)
    fit = data[sample_positions(n, sample_max, seed)]
    centers = kmeans_plus_plus(fit, k, rng)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007
        distances = _squared_distances(fit, centers)
        labels = distances.argmin(axis=1)
        new_centers = centers.copy()
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, fit)
        filled = counts > 0
        new_centers[filled] = sums[filled] / counts[filled, None]
        for empty in np.flatnonzero(~filled):
            farthest = int(distances[np.arange(fit.shape[0]), labels].argmax())
            new_centers[empty] = fit[farthest]
        shift = float(np.abs(new_centers - centers).max())
        centers = new_centers
        if shift <= tol:
            break
    all_labels = np.empty(n, dtype=np.int32)
    inertia = 0.0
    for start in range(0, n, 8192):
        d = _squared_distances(data[start : start + 8192], centers)
        chunk_labels = d.argmin(axis=1)
        all_labels[start : start + 8192] = chunk_labels
        inertia += float(d[np.arange(d.shape[0]), chunk_labels].sum())
    return KMeansResult(labels=all_labels, centers=centers, inertia=inertia, iterations=iterations)


def knn_mean_distance(
    normalized: npt.NDArray[np.float32],
    k: int,
    *,
    reference_max: int = OUTLIER_REFERENCE_MAX,
    seed: int = 0,
    chunk: int = 1024,
) -> npt.NDArray[np.float32]:
    """Mean cosine distance of each (unit) row to its `k` nearest other rows.

    Exact when there are at most `reference_max` rows; beyond that the neighbours are searched in a seeded sample of
    `reference_max` reference rows (bounded time and memory: O(n · reference_max · d)).
    """
    n = normalized.shape[0]
    if n < 2:
        return np.zeros(n, dtype=np.float32)
    reference_positions = sample_positions(n, reference_max, seed)
    reference = normalized[reference_positions]
    k = max(1, min(k, reference.shape[0] - 1))
    is_reference = np.full(n, -1, dtype=np.int64)
    is_reference[reference_positions] = np.arange(reference_positions.shape[0])
    scores = np.empty(n, dtype=np.float32)
    for start in range(0, n, chunk):
        block = normalized[start : start + chunk]
        sims = block @ reference.T
        own = is_reference[start : start + chunk]
        rows = np.flatnonzero(own >= 0)
        sims[rows, own[rows]] = -np.inf  # a row is not its own neighbour
        top = np.partition(-sims, k - 1, axis=1)[:, :k]
        scores[start : start + chunk] = (1.0 + top).mean(axis=1)  # distance = 1 - similarity
    return np.clip(scores, 0.0, 2.0)


def percentile_rank(values: Array) -> npt.NDArray[np.float32]:
    """Share (0..1) of the values strictly below each value, ties averaged: 1.0 means the most extreme."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    if n <= 1:
        return np.zeros(n, dtype=np.float32)
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    at_or_below = np.searchsorted(ordered, values, side="right")
    return (((below + at_or_below - 1) / 2.0) / (n - 1)).astype(np.float32)
