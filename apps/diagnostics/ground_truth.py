"""The ground-truth snapshot of a model run: the current labels of a project's `done` rows, copied into the run.

Whatever the order of the steps (predictions first, or ground truth first), the snapshot holds every done row of
the project by default (`scope="project"`): rows the run did not have yet join it (split `unassigned`), so rows
with ground truth and no prediction (every box on them a miss) count in the metrics. `scope="run"` keeps the run's
own rows only and says how many done rows of the project it left out and why, in the answer and on the run page."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.diagnostics.models import GroundTruth
from apps.labeling import selectors as labeling_selectors
from apps.labeling.models import Project
from apps.predictions import services as prediction_services
from apps.predictions.models import ModelRun, ModelRunDataRow, Prediction, Split

SCOPES = ("project", "run")
LEFT_OUT_REASON = "scope=run: done rows of the project that are not rows of the run are not in the ground truth"


def _rows_without_predictions(model_run: ModelRun) -> int:
    truth = GroundTruth.objects.filter(model_run=model_run)
    predicted = (
        Prediction.objects.filter(model_run=model_run, data_row_id__in=truth.values("data_row_id"))
        .values("data_row_id")
        .distinct()
        .count()
    )
    return truth.count() - predicted


def done_rows_outside(*, model_run: ModelRun, project: Project) -> int:
    """Done rows of the project that are not in the run's ground truth (left out by `scope=run`, or labeled after
    the snapshot): the run page warns about them."""
    snapshot = GroundTruth.objects.filter(model_run=model_run).values("data_row_id")
    outside = labeling_selectors.done_labels(project=project).exclude(data_row_id__in=snapshot)
    return outside.values("data_row_id").distinct().count()


def ground_truth_stats(*, model_run: ModelRun, project: Project | None) -> dict[str, int]:
    return {
        "rows_without_predictions": _rows_without_predictions(model_run),
        "project_done_rows_not_in_ground_truth": (
            done_rows_outside(model_run=model_run, project=project) if project is not None else 0
        ),
    }


@transaction.atomic
def ground_truth_snapshot(
    *, actor: User, model_run: ModelRun, project: Project, scope: str = "project"
) -> dict[str, Any]:
    """Copy the current labels of the project's `done` tasks into the run's ground truth, replacing the last
    snapshot: every done row of the project (`scope="project"`, rows new to the run are added as `unassigned`), or
    only the run's rows (`scope="run"`, the others counted in `left_out`). A row with several done labels
    (consensus slots) takes the first slot's."""
    if project.organization_id != model_run.model.organization_id:
        raise ValidationFailed("The project is not in the run's organization.", details={"project": ["Not found."]})
    if scope not in SCOPES:
        raise ValidationFailed("Unknown scope.", details={"scope": [f"One of: {', '.join(SCOPES)}."]})
    ModelRun.objects.select_for_update().filter(pk=model_run.pk).values_list("pk", flat=True).first()
    run_rows = ModelRunDataRow.objects.filter(model_run=model_run)
    labels = labeling_selectors.done_labels(
        project=project, data_row_ids=run_rows.values("data_row_id") if scope == "run" else None
    ).values_list("id", "data_row_id", "revision", "annotations", "ontology_version_id")
    chosen: dict[Any, tuple[Any, int, Any, Any]] = {}
    for label_id, row_id, revision, document, version_id in labels.iterator(chunk_size=2000):
        chosen.setdefault(row_id, (label_id, revision, document, version_id))
    added = 0
    if scope == "project" and chosen:
        added = prediction_services.model_run_rows_add(model_run=model_run, data_row_ids=chosen, split=Split.UNASSIGNED)
    splits = dict(run_rows.values_list("data_row_id", "split"))
    GroundTruth.objects.filter(model_run=model_run).delete()
    now = timezone.now()
    GroundTruth.objects.bulk_create(
        [
            GroundTruth(
                model_run=model_run,
                project=project,
                data_row_id=row_id,
                label_id=label_id,
                label_revision=revision,
                ontology_version_id=version_id,
                split=splits.get(row_id, Split.UNASSIGNED),
                annotations=document,
                created_at=now,
            )
            for row_id, (label_id, revision, document, version_id) in chosen.items()
        ],
        batch_size=2000,
    )
    total_rows = run_rows.count()
    left_out = done_rows_outside(model_run=model_run, project=project) if scope == "run" else 0
    without_predictions = _rows_without_predictions(model_run)
    audit_record(
        action="model_run.ground_truth",
        actor=actor,
        organization=model_run.model.organization,
        target=model_run,
        extra={"project": str(project.id), "rows": len(chosen), "scope": scope, "added": added, "left_out": left_out},
    )
    return {
        "model_run": str(model_run.id),
        "project": str(project.id),
        "scope": scope,
        "rows": len(chosen),
        "rows_without_ground_truth": total_rows - len(chosen),
        "rows_without_predictions": without_predictions,
        "added_to_run": added,
        "left_out": {"rows": left_out, "reason": LEFT_OUT_REASON if left_out else ""},
        "created_at": now.isoformat(),
    }
