"""Recording what labelers did with pre-labels (the labeling app calls `label_provenance_record` on submit)."""

from __future__ import annotations

from typing import Any

from apps.labeling.models import Label, Task
from apps.predictions.domain.provenance import classify
from apps.predictions.models import AnnotationProvenance, LabelAssist, Prelabel


def row_prelabels(*, project_id: Any, data_row_id: Any) -> list[Prelabel]:
    return list(Prelabel.objects.filter(project_id=project_id, data_row_id=data_row_id).order_by("id"))


def label_provenance_record(label: Label, task: Task, references: list[str | None]) -> None:
    """Runs inside the submit transaction. A first revision is compared with the row's stored pre-labels (what the
    labeler was shown); later revisions (rework) started from the previous label and are not counted."""
    if label.previous_id is not None:
        return
    prelabels = row_prelabels(project_id=label.project_id, data_row_id=label.data_row_id)
    by_uuid = {str(p.uuid): p for p in prelabels}
    outcomes = classify(label.annotations, references, {k: p.annotation for k, p in by_uuid.items()})
    seconds = label.seconds_spent if label.seconds_spent is not None else label.server_seconds
    LabelAssist.objects.create(label=label, project_id=label.project_id, had_prelabels=bool(prelabels), seconds=seconds)
    AnnotationProvenance.objects.bulk_create(
        [
            AnnotationProvenance(
                label=label,
                project_id=label.project_id,
                index=o.index,
                prelabel_uuid=o.prelabel,
                schema_id=o.schema_id,
                name=o.name[:200],
                outcome=o.outcome,
                confidence=by_uuid[o.prelabel].confidence if o.prelabel in by_uuid else None,
            )
            for o in outcomes
        ]
    )


def prelabels_for_task(task: Task) -> list[dict[str, Any]]:
    """The row's pre-labels in the API.md annotation format, each with its `prelabel` id (send it back with the
    annotation, the server strips it) and the model's `confidence`."""
    out = []
    for prelabel in row_prelabels(project_id=task.project_id, data_row_id=task.data_row_id):
        annotation = {k: v for k, v in prelabel.annotation.items() if k != "tool"}
        annotation["prelabel"] = str(prelabel.uuid)
        if prelabel.confidence is not None:
            annotation["confidence"] = prelabel.confidence
        out.append(annotation)
    return out
