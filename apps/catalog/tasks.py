"""django-q2 task functions of the catalog: ids in, re-fetch, idempotent."""

from __future__ import annotations

from typing import Any

from apps.catalog.models import EmbeddingSpace
from apps.core.jobs import job_progress, run_job
from apps.core.models import Job


def space_analysis_job(job_id: str) -> None:
    def work(job: Job) -> dict[str, Any]:
        from apps.catalog import services

        space = EmbeddingSpace.objects.get(pk=job.params["space"], organization_id=job.organization_id)
        result = services.space_analysis_compute(
            space=space,
            clusters=int(job.params["clusters"]),
            neighbors=int(job.params["neighbors"]),
            on_progress=lambda done, total: job_progress(job, done=done, total=total),
        )
        return {
            "analysis": str(result.pk),
            "space": str(space.pk),
            "space_version": result.space_version,
            "rows": result.rows,
            **result.summary,
        }

    run_job(job_id, work)


def builtin_embedding_job(job_id: str) -> None:
    def work(job: Job) -> dict[str, Any]:
        from apps.catalog import embedder

        return embedder.embed_dataset_job(job)

    run_job(job_id, work)
