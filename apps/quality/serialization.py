"""A row's consensus as JSON (API.md "Quality"), shared by the API and the scoring service's breach event: a module
of its own, so services never import the HTTP layer."""

from __future__ import annotations

from typing import Any

from apps.quality.models import ConsensusScore


def serialize_consensus(row: ConsensusScore) -> dict[str, Any]:
    return {
        "data_row": str(row.data_row_id),
        "score": row.score,
        "winner": str(row.winner_id) if row.winner_id else None,
        "labels": row.labels,
        "features": row.features,
        "label_count": row.label_count,
        "complete": row.complete,
        "flagged": row.flagged,
        "computed_at": row.computed_at.isoformat(),
    }
