"""Background jobs: create and enqueue after commit, report progress, finish. Tasks re-fetch by id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from apps.core.errors import ValidationFailed
from apps.core.models import Job

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def job_create_and_enqueue(*, user: User, kind: str, func: str, params: dict[str, Any] | None = None) -> Job:
    """Create a queued job and hand `func(job_id)` to the worker once the transaction commits."""
    if user.organization is None:
        raise ValidationFailed("Jobs run for an organization; you belong to none.")
    job = Job.objects.create(organization=user.organization, created_by=user, kind=kind, params=params or {})
    job_id = str(job.id)
    transaction.on_commit(lambda: async_task(func, job_id, task_name=f"{kind}:{job_id}"))
    return job


def job_start(job_id: str) -> Job | None:
    """Move a queued job to running. Returns None when the job already finished (a task delivered twice)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return None
        job.status = Job.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.save(update_fields=["status", "started_at", "updated_at"])
        return job


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    job.progress_done = done
    fields = ["progress_done", "updated_at"]
    if total is not None:
        job.progress_total = total
        fields.append("progress_total")
    job.save(update_fields=fields)


def job_finish(job: Job, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
    job.status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    job.result = result or {}
    job.error = error
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "error", "finished_at", "updated_at"])


def run_job(job_id: str, work: Callable[[Job], dict[str, Any]]) -> None:
    """Run `work(job)` for a job, recording success or failure; safe to call twice."""
    job = job_start(job_id)
    if job is None:
        return
    try:
        result = work(job)
    except Exception as exc:  # the job records the failure; the worker must not crash
        logger.exception("Job %s failed", job_id)
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        return
    job_finish(job, result=result)
