"""`python manage.py benchmark similarity [--size N] [--option dims=512 --option k=10 --option queries=200]`

Times k-NN queries on the in-process index structure (normalised float32 matrix, one matrix-vector product +
argpartition) after it is warm, unfiltered and with a dataset mask. Synthetic vectors: no database involved.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from apps.catalog.domain.search import knn
from apps.catalog.domain.vectors import normalize_rows
from apps.core.benchmarks import benchmark


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000.0
    return {"p50_ms": round(float(np.percentile(values, 50)), 3), "p95_ms": round(float(np.percentile(values, 95)), 3)}


@benchmark("similarity")
def similarity(params: dict[str, Any]) -> dict[str, Any]:
    n = int(params.get("size") or 100_000)
    dims = int(params.get("dims", 512))
    k = int(params.get("k", 10))
    queries = int(params.get("queries", 200))
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    matrix = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, 10_000):
        matrix[start : start + 10_000] = rng.standard_normal((min(10_000, n - start), dims), dtype=np.float32)
    matrix = normalize_rows(matrix)
    build_s = time.perf_counter() - started
    mask = np.zeros(n, dtype=bool)
    mask[: n // 2] = True
    query_rows = rng.integers(0, n, queries)
    for q in query_rows[:5]:  # warm-up
        knn(matrix, matrix[q], k)
    plain: list[float] = []
    masked: list[float] = []
    for q in query_rows:
        t = time.perf_counter()
        knn(matrix, matrix[q], k, exclude=int(q))
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        knn(matrix, matrix[q], k, mask=mask, exclude=int(q))
        masked.append(time.perf_counter() - t)
    plain_stats, masked_stats = _percentiles(plain), _percentiles(masked)
    return {
        "rows": n,
        "dims": dims,
        "k": k,
        "queries": queries,
        "index_build_s": round(build_s, 3),
        **plain_stats,
        "masked_p50_ms": masked_stats["p50_ms"],
        "masked_p95_ms": masked_stats["p95_ms"],
        "target_ms": 50,
        "ok": plain_stats["p95_ms"] < 50 and masked_stats["p95_ms"] < 50,
    }
