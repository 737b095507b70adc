"""django-q2 task functions of the predictions app: ids in, re-fetch, idempotent."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import job_progress, run_job
from apps.core.models import Job
from apps.labeling.models import Project


def annotations_import_job(job_id: str) -> None:
    """Import a spooled NDJSON body (uuid upserts make a second delivery harmless)."""
    from apps.predictions.services import annotations_import_from_storage

    def work(job: Job) -> dict[str, Any]:
        total = int(job.params.get("bytes", 0))

        def progress(done: int) -> None:
            job_progress(job, done=done, total=total)

        return annotations_import_from_storage(job=job, on_progress=progress)

    run_job(job_id, work)


def route_project(project_id: str) -> int:
    from apps.predictions.services import project_route

    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    return project_route(project=project)


def flag_overdue_expert_tasks() -> int:
    from apps.predictions.services import overdue_expert_tasks_notify

    return overdue_expert_tasks_notify()


def queue_order_project(project_id: str) -> dict[str, Any] | None:
    """Recompute a project's queue order (idempotent: the same inputs write the same ranks)."""
    from apps.predictions.services import queue_order_compute

    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return None
    return queue_order_compute(project=project)


def queue_order_job(job_id: str) -> None:
    from apps.predictions.services import queue_order_compute

    def work(job: Job) -> dict[str, Any]:
        project = Project.objects.get(pk=job.params["project"])
        return queue_order_compute(project=project)

    run_job(job_id, work)


def endpoint_dispatch(endpoint_id: str) -> dict[str, float]:
    """Send a model endpoint's due rows (one dispatcher per endpoint at a time: a second delivery returns at once)."""
    from apps.predictions.services.prelabeling import endpoint_dispatch as dispatch

    return dispatch(endpoint_id=endpoint_id)


def endpoints_tick() -> int:
    """The schedule: start a dispatcher for every endpoint with rows due (retries after backoff, a breaker that may
    half-open, a dispatcher that died)."""
    from apps.core.queue import enqueue
    from apps.predictions.services.prelabeling import due_endpoint_ids

    ids = due_endpoint_ids()
    for endpoint_id in ids:
        enqueue("apps.predictions.tasks.endpoint_dispatch", endpoint_id)
    return len(ids)


def retrain_poll(retrain_id: int) -> str | None:
    """One poll of an asynchronous training job (claimed: a second delivery does nothing)."""
    from apps.predictions.services.retrain_follow import retrain_poll as poll

    return poll(retrain_id)


def retrain_polls_tick() -> int:
    """The schedule (every minute): poll every training job whose next poll is due."""
    from apps.core.queue import enqueue
    from apps.predictions.services.retrain_follow import due_polls

    ids = due_polls()
    for retrain_id in ids:
        enqueue("apps.predictions.tasks.retrain_poll", retrain_id)
    return len(ids)
