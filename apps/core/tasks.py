"""Core background tasks."""

from __future__ import annotations

import logging
from typing import Any

from django.utils.module_loading import import_string

from apps.core import alerts
from apps.core.jobs import job_progress, run_job
from apps.core.models import Job

logger = logging.getLogger("tdp.queue")


def echo_job(job_id: str) -> None:
    """A diagnostic job: counts to `params.count`, reporting progress, and returns the sum (used by health tests)."""

    def work(job: Job) -> dict[str, int]:
        count = int(job.params.get("count", 0))
        total = 0
        for i in range(1, count + 1):
            total += i
        job_progress(job, done=count, total=count)
        return {"sum": total}

    run_job(job_id, work)


def run_each(func: str, calls: list[list[Any]]) -> int:
    """Run `func(*args)` for each of the calls gathered by `apps.core.queue.enqueue_coalesced_on_commit`; one that
    fails is logged and left to its catch-up schedule, the others still run. Returns how many succeeded."""
    target = import_string(func)
    done = 0
    for args in calls:
        try:
            target(*args)
            done += 1
        except Exception:
            logger.exception("Coalesced task %s%r failed; its catch-up schedule will retry it.", func, tuple(args))
    return done


def add(a: int, b: int) -> int:
    """Smallest possible task: proves a worker picked something up and ran project code."""
    return a + b


def alerts_evaluate(organization_id: str, kind: str, actor_id: str | None, ip: str | None) -> int:
    """Count a subject's recent events against the organization's rules; raise or refresh alerts. Returns how many
    alerts are open for it after the check. Idempotent (an open alert is refreshed, never duplicated)."""
    return len(alerts.alerts_evaluate(organization_id=organization_id, kind=kind, actor_id=actor_id, ip=ip))


def requeue_stalled_jobs() -> int:
    """Every minute (a django-q2 Schedule): hand jobs whose worker died, or whose message was lost, to a worker
    again. Returns how many."""
    from apps.core.jobs import jobs_requeue_stalled

    return len(jobs_requeue_stalled())
