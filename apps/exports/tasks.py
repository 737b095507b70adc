"""Background tasks of the exports app (django-q2). Ids in, re-fetch, safe to run twice."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import job_progress, run_job
from apps.core.models import Job


def export_job(job_id: str) -> None:
    """Write an export. A redelivered or retried task continues from the export's checkpoint."""
    from apps.exports.services import export_run

    def work(job: Job) -> dict[str, Any]:
        def progress(done: int, total: int) -> None:
            job_progress(job, done=done, total=total)

        return export_run(export_id=job.params["export"], on_progress=progress)

    run_job(job_id, work)
