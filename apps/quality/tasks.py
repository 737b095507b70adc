"""django-q2 task functions of the quality app: ids in, re-fetch, idempotent."""

from __future__ import annotations

from apps.core.jobs import run_job
from apps.labeling.models import Project
from apps.quality import services


def score_data_row(project_id: str, data_row_id: str) -> None:
    project = Project.objects.filter(pk=project_id).first()
    if project is None:  # deleted since the submit
        return
    services.row_score(project=project, data_row_id=data_row_id)


def recompute_project(job_id: str) -> None:
    run_job(job_id, services.project_recompute_run)


def score_catch_up() -> int:
    """Every minute (a django-q2 Schedule): score labels whose scoring task never ran. Returns the rows scored."""
    return services.scores_catch_up()
