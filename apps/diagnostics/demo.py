"""Demo content of the diagnostics app (idempotent): each demo run gets the main project's ground truth, and its
metrics at the default thresholds are computed now, so the run and comparison pages open instantly."""

from __future__ import annotations

from apps.accounts.models import Organization, User
from apps.diagnostics import services
from apps.diagnostics.ground_truth import ground_truth_snapshot
from apps.diagnostics.models import GroundTruth
from apps.labeling.demo import PROJECT_NAME
from apps.labeling.models import Project
from apps.predictions.demo import MODEL_NAME
from apps.predictions.models import ModelRun


def load(organization: Organization) -> None:
    admin = User.objects.filter(organization=organization, role="admin").order_by("date_joined").first()
    project = Project.objects.filter(organization=organization, name=PROJECT_NAME).first()
    if admin is None or project is None:
        return
    for run in ModelRun.objects.filter(model__organization=organization, model__name=MODEL_NAME).order_by("name"):
        if GroundTruth.objects.filter(model_run=run).exists():
            continue
        ground_truth_snapshot(actor=admin, model_run=run, project=project, scope="run")
        iou, confidence = services.parse_thresholds(None, None)
        services.metrics_compute(model_run=run, iou=iou, confidence=confidence)
