"""Recording what labelers did with pre-labels (the labeling app calls `label_provenance_record` on submit)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from apps.core.compiled import prepared_cursor
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
    has_any = task.project.has_prelabels
    prelabels = row_prelabels(project_id=label.project_id, data_row_id=label.data_row_id) if has_any else []
    by_uuid = {str(p.uuid): p for p in prelabels}
    outcomes = classify(label.annotations, references, {k: p.annotation for k, p in by_uuid.items()})
    seconds = label.seconds_spent if label.seconds_spent is not None else label.server_seconds
    provenance = [
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
    if connection.vendor == "postgresql":
        _insert_postgresql(label, bool(prelabels), seconds, provenance)
        return
    LabelAssist.objects.create(label=label, project_id=label.project_id, had_prelabels=bool(prelabels), seconds=seconds)
    AnnotationProvenance.objects.bulk_create(provenance)


# Both inserts of a submit in one statement (one round trip on the hot path, no ORM insert compilation).
_INSERT_SQL = """
    WITH assist AS (
        INSERT INTO predictions_labelassist (label_id, project_id, had_prelabels, seconds, created_at)
        VALUES (%s, %s, %s, %s, %s)
    )
    INSERT INTO predictions_annotationprovenance (label_id, project_id, index, prelabel_uuid, schema_id, name,
                                                  outcome, confidence)
    SELECT %s, %s, r.index, r.prelabel_uuid::uuid, r.schema_id::uuid, r.name, r.outcome, r.confidence
    FROM unnest(%s::integer[], %s::text[], %s::text[], %s::text[], %s::text[], %s::float8[])
         AS r(index, prelabel_uuid, schema_id, name, outcome, confidence)
"""


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _insert_postgresql(label: Label, had_prelabels: bool, seconds: Any, rows: list[AnnotationProvenance]) -> None:
    params = [
        label.pk,
        label.project_id,
        had_prelabels,
        seconds,
        timezone.now(),
        label.pk,
        label.project_id,
        [row.index for row in rows],
        [_text_or_none(row.prelabel_uuid) for row in rows],
        [str(row.schema_id) for row in rows],
        [row.name for row in rows],
        [str(row.outcome) for row in rows],
        [None if row.confidence is None else float(row.confidence) for row in rows],
    ]
    with prepared_cursor(connection) as cursor:  # the same statement on every submit: planned once per connection
        cursor.execute(_INSERT_SQL, params)


def prelabels_for_task(task: Task) -> list[dict[str, Any]]:
    """The row's pre-labels in the API.md annotation format, each with its `prelabel` id (send it back with the
    annotation, the server strips it) and the model's `confidence`."""
    if not task.project.has_prelabels:
        return []
    out = []
    for prelabel in row_prelabels(project_id=task.project_id, data_row_id=task.data_row_id):
        annotation = {k: v for k, v in prelabel.annotation.items() if k != "tool"}
        annotation["prelabel"] = str(prelabel.uuid)
        if prelabel.confidence is not None:
            annotation["confidence"] = prelabel.confidence
        out.append(annotation)
    return out
