"""Every write of the quality app."""

from apps.quality.services.benchmarks import benchmark_claim, benchmark_set, benchmark_unset
from apps.quality.services.scoring import (
    project_recompute,
    project_recompute_run,
    project_rescore,
    row_score,
    rows_unscored,
    scores_catch_up,
    scores_enqueue,
)

__all__ = [
    "benchmark_claim",
    "benchmark_set",
    "benchmark_unset",
    "project_recompute",
    "project_recompute_run",
    "project_rescore",
    "row_score",
    "rows_unscored",
    "scores_catch_up",
    "scores_enqueue",
]
