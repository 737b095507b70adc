"""django-q2 tasks of diagnostics: ids in, re-fetch, idempotent (a fresh result is not computed twice)."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import run_job
from apps.core.models import Job
from apps.diagnostics import services
from apps.predictions.models import ModelRun


def metrics_job(job_id: str) -> None:
    def work(job: Job) -> dict[str, Any]:
        params = job.params
        run = ModelRun.objects.select_related("model", "ontology_version").get(pk=params["model_run"])
        iou, confidence = float(params["iou"]), float(params["confidence"])
        result = services.fresh_result(run, iou, confidence)
        if result is None:
            result = services.metrics_compute(model_run=run, iou=iou, confidence=confidence)
        return {
            "metrics_result": str(result.id),
            "model_run": str(run.id),
            "iou": iou,
            "confidence": confidence,
            "seconds": result.seconds,
        }

    run_job(job_id, work)
