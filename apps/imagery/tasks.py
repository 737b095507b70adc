"""django-q2 tasks of the imagery app: ids in, re-fetch, idempotent."""

from __future__ import annotations

from apps.core.jobs import run_job


def tiles_build(job_id: str) -> None:
    from apps.imagery.services.tiles import tiles_build as build

    run_job(job_id, lambda job: build(job=job))
