"""The `quality` section of NDJSON lines and the `consensus_winner` label chooser, from the quality app's selectors:
the row's consensus score, winner and each label's agreement, and which labels are benchmark references."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.core.json_sql import IdsParam
from apps.labeling.models import Project
from apps.labeling.selectors import current_label_ids_of_rows
from apps.quality.selectors import benchmark_label_ids, consensus_rows


def load_quality(project: Project, data_row_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    ids = list(data_row_ids)
    found: dict[str, dict[str, Any]] = {}
    rows = (
        consensus_rows(project=project)
        .filter(data_row_id__in=IdsParam(ids))
        .values_list("data_row_id", "score", "winner_id", "complete", "flagged", "labels")
    )
    for row_id, score, winner, complete, flagged, labels in rows:
        found[str(row_id)] = {
            "consensus": {
                "score": score,
                "winner": str(winner) if winner else None,
                "complete": complete,
                "flagged": flagged,
                "labels": labels,
            },
            "benchmark_references": [],
        }
    rows_of = current_label_ids_of_rows(
        project=project, data_row_ids=ids, id_range=getattr(data_row_ids, "id_range", None)
    )
    references = benchmark_label_ids(label_ids=list(rows_of)) if rows_of else set()
    for label_id in sorted(references, key=str):
        entry = found.setdefault(str(rows_of[label_id]), {"consensus": None, "benchmark_references": []})
        entry["benchmark_references"].append(str(label_id))
    return found


def consensus_winners(project: Project, data_row_ids: Sequence[str]) -> dict[str, str]:
    rows = (
        consensus_rows(project=project)
        .filter(data_row_id__in=list(data_row_ids), winner__isnull=False)
        .values_list("data_row_id", "winner_id")
    )
    return {str(row_id): str(winner) for row_id, winner in rows}
