"""Distribution shift between two slices: KS and PSI per metadata field, and shift in embedding space."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

PSI_EPSILON = 1e-4
PSI_THRESHOLD = 0.2  # the usual rule of thumb: < 0.1 stable, 0.1–0.2 moderate, > 0.2 significant shift
KS_THRESHOLD = 0.2
EMBEDDING_THRESHOLD = 0.5


def ks_statistic(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs."""
    xa = np.sort(np.asarray(a, dtype=np.float64))
    xb = np.sort(np.asarray(b, dtype=np.float64))
    if xa.size == 0 or xb.size == 0:
        raise ValueError("KS needs two non-empty samples.")
    grid = np.concatenate([xa, xb])
    cdf_a = np.searchsorted(xa, grid, side="right") / xa.size
    cdf_b = np.searchsorted(xb, grid, side="right") / xb.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def psi_from_shares(expected: npt.ArrayLike, actual: npt.ArrayLike, epsilon: float = PSI_EPSILON) -> float:
    """PSI = Σ (actual − expected) · ln(actual / expected), shares floored at `epsilon` (empty bins)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric_bin_edges(reference: npt.ArrayLike, bins: int = 10) -> npt.NDArray[np.float64]:
    """Inner edges at the reference sample's quantiles (deduplicated): equal-mass bins of the reference."""
    values = np.asarray(reference, dtype=np.float64)
    edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(edges)


def psi_numeric(reference: npt.ArrayLike, current: npt.ArrayLike, bins: int = 10) -> float:
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        raise ValueError("PSI needs two non-empty samples.")
    edges = numeric_bin_edges(ref, bins)
    n_bins = edges.size + 1
    ref_share = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=n_bins) / ref.size
    cur_share = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=n_bins) / cur.size
    return psi_from_shares(ref_share, cur_share)


def category_shares(
    reference: Sequence[Hashable], current: Sequence[Hashable]
) -> tuple[list[Hashable], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    ref_counts, cur_counts = Counter(reference), Counter(current)
    categories = sorted(set(ref_counts) | set(cur_counts), key=lambda c: (str(type(c)), str(c)))
    ref = np.array([ref_counts[c] for c in categories], dtype=np.float64) / max(len(reference), 1)
    cur = np.array([cur_counts[c] for c in categories], dtype=np.float64) / max(len(current), 1)
    return categories, ref, cur


def psi_categorical(reference: Sequence[Hashable], current: Sequence[Hashable]) -> float:
    if not reference or not current:
        raise ValueError("PSI needs two non-empty samples.")
    _, ref, cur = category_shares(reference, current)
    return psi_from_shares(ref, cur)


@dataclass(frozen=True)
class EmbeddingShift:
    mean_distance: float  # ‖mean_a − mean_b‖
    spread: float  # sqrt of the average total variance of the two slices
    relative_shift: float  # mean_distance / spread

    def as_dict(self) -> dict[str, float]:
        return {"mean_distance": self.mean_distance, "spread": self.spread, "relative_shift": self.relative_shift}


def embedding_shift(a: npt.ArrayLike, b: npt.ArrayLike) -> EmbeddingShift:
    """Distance between the slice means relative to their spread (0 for the same distribution; ≫ 1 when disjoint)."""
    xa = np.asarray(a, dtype=np.float64)
    xb = np.asarray(b, dtype=np.float64)
    if xa.shape[0] == 0 or xb.shape[0] == 0:
        raise ValueError("Embedding drift needs two non-empty slices.")
    distance = float(np.linalg.norm(xa.mean(axis=0) - xb.mean(axis=0)))
    total_variance = (float(xa.var(axis=0).sum()) + float(xb.var(axis=0).sum())) / 2.0
    spread = float(np.sqrt(total_variance))
    relative = distance / spread if spread > 0 else (0.0 if distance == 0 else float("inf"))
    return EmbeddingShift(mean_distance=distance, spread=spread, relative_shift=relative)


def cluster_shares(labels_a: npt.ArrayLike, labels_b: npt.ArrayLike, k: int) -> dict[str, Any]:
    """Per-cluster share of each slice, and the PSI between the two share vectors."""
    la = np.asarray(labels_a, dtype=np.int64)
    lb = np.asarray(labels_b, dtype=np.int64)
    share_a = np.bincount(la, minlength=k) / max(la.size, 1)
    share_b = np.bincount(lb, minlength=k) / max(lb.size, 1)
    return {
        "clusters": [{"cluster": i, "share_a": float(share_a[i]), "share_b": float(share_b[i])} for i in range(k)],
        "psi": psi_from_shares(share_a, share_b),
    }
