"""What the quality app plugs into other apps' registries (called from `QualityConfig.ready`)."""

from __future__ import annotations

from typing import Any


def on_label_stored(label: Any, task: Any) -> None:
    """Score the row when there is something to score: several labels of a consensus row, or a benchmark
    reference in the project (benchmark tasks and labels of reference rows)."""
    from apps.labeling.models import TaskKind
    from apps.quality.services import scores_enqueue

    if task.kind in (TaskKind.CONSENSUS, TaskKind.BENCHMARK) or task.project.has_benchmark_references:
        scores_enqueue(project_id=label.project_id, data_row_id=label.data_row_id)


def register() -> None:
    from apps.labeling.registry import (
        register_claim_source,
        register_label_submitted,
        register_project_admin_action,
        register_project_link,
    )
    from apps.quality.admin import recompute_quality
    from apps.quality.services import benchmark_claim
    from apps.quality.views import quality_link

    register_label_submitted(on_label_stored)
    register_claim_source(benchmark_claim)
    register_project_admin_action(recompute_quality)
    register_project_link(quality_link)
