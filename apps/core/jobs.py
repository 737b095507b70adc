"""Background jobs: create and enqueue after commit, report progress, finish. Tasks re-fetch by id.

Exactly once across machines: `run_job` holds a PostgreSQL session advisory lock on the job while it works, so a
second delivery of the same job (a requeue, a duplicate message) returns at once, and a worker that dies (SIGKILL,
lost machine) releases the lock with its connection. `jobs_requeue_stalled` (a django-q2 schedule, every minute)
hands a job to the broker again when it is `running` but nobody holds its lock (its worker died), or `queued` for
longer than `TDP_JOB_REQUEUE_QUEUED_SECONDS` (its message was lost, or the broker was down when it was created).
The work itself resumes from its own checkpoint (exports) or is idempotent.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.core.models import Job
from apps.core.queue import enqueue, enqueue_on_commit

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def job_create_and_enqueue(*, user: User, kind: str, func: str, params: dict[str, Any] | None = None) -> Job:
    """Create a queued job and hand `func(job_id)` to the worker once the transaction commits."""
    if user.organization is None:
        raise ValidationFailed("Jobs run for an organization; you belong to none.")
    job = Job.objects.create(organization=user.organization, created_by=user, kind=kind, func=func, params=params or {})
    job_id = str(job.id)
    enqueue_on_commit(func, job_id, task_name=f"{kind}:{job_id}")
    return job


def _lock_key(job_id: Any) -> int:
    """A signed 64-bit advisory lock key for the job (namespaced so it cannot meet other advisory locks)."""
    digest = hashlib.blake2b(f"tdp-job:{job_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _try_lock(job_id: Any) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(job_id)])
        row = cursor.fetchone()
    return bool(row and row[0])


def _unlock(job_id: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(job_id)])


@contextmanager
def job_lease(job_id: Any) -> Iterator[bool]:
    """Yields whether this process now owns the job (always True on SQLite, where one machine runs everything).
    The lock lives on the database session: it goes away with a dead worker's connection."""
    if connection.vendor != "postgresql":
        yield True
        return
    held = _try_lock(job_id)
    try:
        yield held
    finally:
        if held:
            try:
                _unlock(job_id)
            except Exception:  # the connection is gone: so is the lock
                logger.warning("Could not release the lease of job %s (connection lost)", job_id)


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
    """Run `work(job)` for a job, recording success or failure; safe to call twice, and at the same time on two
    machines (the second one returns at once)."""
    with job_lease(job_id) as owned:
        if not owned:
            logger.info("Job %s is being run by another worker; this delivery is dropped", job_id)
            return
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


def _job_is_orphaned(job: Job) -> bool:
    """A running job nobody holds the lease of: its worker died. (SQLite: running for longer than the task
    timeout.)"""
    if connection.vendor != "postgresql":
        limit = timezone.now() - timedelta(seconds=int(settings.Q_CLUSTER.get("timeout") or 600) + 60)
        return job.updated_at < limit
    if not _try_lock(job.pk):
        return False
    _unlock(job.pk)
    return True


def jobs_requeue_stalled(*, now: Any = None, limit: int = 500) -> list[str]:
    """Hand lost jobs to the broker again (see the module docstring). Returns the ids requeued."""
    now = now or timezone.now()
    queued_before = now - timedelta(seconds=settings.TDP_JOB_REQUEUE_QUEUED_SECONDS)
    # A requeued job is left alone for a while, so a backlog is not flooded with copies of the same message.
    touched_before = now - timedelta(seconds=settings.TDP_JOB_REQUEUE_GRACE_SECONDS)
    candidates = (
        Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING], updated_at__lt=touched_before)
        .exclude(func="")
        .order_by("updated_at")[:limit]
    )
    requeued = []
    for job in candidates:
        lost = _job_is_orphaned(job) if job.status == Job.Status.RUNNING else job.updated_at < queued_before
        if not lost:
            continue
        job_id = str(job.pk)
        logger.warning("Requeueing %s job %s (%s, last seen %s)", job.kind, job_id, job.status, job.updated_at)
        if enqueue(job.func, job_id, task_name=f"{job.kind}:{job_id}:requeue") is None:
            break  # broker still down: the next sweep tries again
        Job.objects.filter(pk=job.pk).update(updated_at=now)
        requeued.append(job_id)
    return requeued
